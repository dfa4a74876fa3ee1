// Every string the person reads, in Swedish (default) and English.
const sv = {
  appName: 'Reserv',
  signIn: 'Logga in', signOut: 'Logga ut', username: 'Användarnamn', password: 'Lösenord',
  signInFailed: 'Inloggningen misslyckades', needNetwork: 'Inloggning kräver nät',
  routines: 'Mina rutiner', incidents: 'Incidenter', contacts: 'Kontakter', status: 'Status',
  search: 'Sök rutin', trigger: 'När', steps: 'Steg', materials: 'Material', recovery: 'Återställning',
  noRoutines: 'Inga rutiner hittades', back: 'Tillbaka',
  offline: 'Offline', dataAge: (m: number) => (m < 1 ? 'data från nyss' : `data ${m} min gammal`),
  noIncidents: 'Inga aktiva incidenter', log: 'Krisloggen', addEntry: 'Skriv i loggen', send: 'Spara',
  myTasks: 'Mina uppgifter', due: 'Klart senast', exercise: 'ÖVNING',
  pending: (n: number) => `${n} väntar på att skickas`, rejected: 'Avvisad av servern', dismiss: 'Ta bort',
  call: 'Ring', sms: 'SMS', noContacts: 'Inga kontakter',
  signedInAs: 'Inloggad som', language: 'Language: English', online: 'Ansluten',
  notDone: 'Meddelanden, checklistor, Rapportera och den publika statussidan kommer när servern har dem.',
  state: { REPORTED: 'Rapporterad', TRIAGED: 'Bedömd', ACTIVE: 'Aktiv', RECOVERING: 'Återställs', CLOSED: 'Stängd' } as Record<string, string>,
  kind: { OBSERVATION: 'Iakttagelse', DECISION: 'Beslut', ACTION: 'Åtgärd', MESSAGE: 'Meddelande', MEETING: 'Möte' } as Record<string, string>,
};
export type Strings = typeof sv;
const en: Strings = {
  appName: 'Reserv',
  signIn: 'Sign in', signOut: 'Sign out', username: 'Username', password: 'Password',
  signInFailed: 'Sign-in failed', needNetwork: 'Signing in needs a network',
  routines: 'My routines', incidents: 'Incidents', contacts: 'Contacts', status: 'Status',
  search: 'Search routines', trigger: 'When', steps: 'Steps', materials: 'Materials', recovery: 'Recovery',
  noRoutines: 'No routines found', back: 'Back',
  offline: 'Offline', dataAge: (m: number) => (m < 1 ? 'data from just now' : `data ${m} min old`),
  noIncidents: 'No active incidents', log: 'Crisis log', addEntry: 'Write in the log', send: 'Save',
  myTasks: 'My tasks', due: 'Due', exercise: 'EXERCISE',
  pending: (n: number) => `${n} waiting to be sent`, rejected: 'Refused by the server', dismiss: 'Remove',
  call: 'Call', sms: 'SMS', noContacts: 'No contacts',
  signedInAs: 'Signed in as', language: 'Språk: svenska', online: 'Connected',
  notDone: 'Messages, checklists, Report and the public status page come when the server has them.',
  state: { REPORTED: 'Reported', TRIAGED: 'Triaged', ACTIVE: 'Active', RECOVERING: 'Recovering', CLOSED: 'Closed' },
  kind: { OBSERVATION: 'Observation', DECISION: 'Decision', ACTION: 'Action', MESSAGE: 'Message', MEETING: 'Meeting' },
};

export type Language = 'sv' | 'en';
export const strings = (language: Language): Strings => (language === 'en' ? en : sv);
