import { render } from 'preact';
import { registerSW } from 'virtual:pwa-register';
import { App } from './app';
import './style.css';

render(<App />, document.getElementById('app')!);
// The shell updates itself on the next load; data in IndexedDB is untouched by updates.
registerSW({ immediate: true });
