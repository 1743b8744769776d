// IPC channel names shared by the preload and the shell; kept apart from the schemas so the
// sandboxed preload bundle stays tiny.
export const IPC_PREFIX = 'rerender:';
export const EVENT_CHANNEL = 'rerender-event';
