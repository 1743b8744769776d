// The app:// protocol: serves the renderer (app://rerender/…) and the open project's media
// (app://rerender/media/…) with path confinement and a strict CSP, instead of file:// URLs.
import { protocol } from 'electron';
import fs from 'node:fs';
import type { Project } from '../../preload/project-schema';
import { APP_HOST, APP_SCHEME } from './ipc-validation';
import { MediaError, confinedFile, contentTypeOf, rendererCsp, resolveMediaFile, urlSegments } from '../engine/editor/media-files';

/** Must run before the app is ready: app:// behaves like https (standard, secure, fetch allowed). */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } }]);
}

export function handleAppProtocol(rendererDir: string, projectFile: () => string | undefined, document: () => Project | undefined = () => undefined): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== APP_HOST || request.method !== 'GET') return new Response('forbidden', { status: 403 });
    try {
      const segments = url.pathname === '/' ? ['index.html'] : urlSegments(url.pathname);
      let file: string;
      if (segments[0] === 'media') {
        const project = projectFile();
        if (!project) return new Response('no project is open', { status: 404 });
        file = resolveMediaFile(project, url.pathname.replace(/^\/media\//, ''), document());
      } else {
        file = confinedFile(rendererDir, segments);
      }
      const headers: Record<string, string> = { 'content-type': contentTypeOf(file), 'x-content-type-options': 'nosniff' };
      // Scripts carry the policy too: a worker's policy is the one its own script arrived with.
      if (file.endsWith('.html') || file.endsWith('.js')) headers['content-security-policy'] = rendererCsp("'self'");
      const body = await fs.promises.readFile(file);
      return new Response(body, { status: 200, headers });
    } catch (err) {
      if (err instanceof MediaError) return new Response(err.status === 403 ? 'forbidden' : 'not found', { status: err.status });
      return new Response('internal error', { status: 500 });
    }
  });
}
