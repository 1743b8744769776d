// Renderer entry: connects to the engine (Electron preload or serve-mode WebSocket) and mounts the editor.
import { createRoot } from 'react-dom/client';
import { connectApi } from './bridge';
import { editor } from './store';
import { App } from './App';
import './styles.css';

editor.set({ api: connectApi((message) => editor.set({ error: message })) });
createRoot(document.getElementById('root')!).render(<App />);
