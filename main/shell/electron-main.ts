// Electron shell entry (the only code that imports electron).
import { app } from 'electron';
app.whenReady().then(() => undefined);
