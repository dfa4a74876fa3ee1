// Times in the page's language (set from the chosen one), not the browser's.
const locale = () => (document.documentElement.lang === 'en' ? 'en-GB' : 'sv-SE');

export const time = (iso: string) => new Date(iso).toLocaleString(locale(), { dateStyle: 'short', timeStyle: 'short' });

export const clock = (iso: string) => new Date(iso).toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' });
