import type { Express } from 'express';

/** One method + path pattern served by the app, as declared in its routers. */
export interface DeclaredRoute {
  method: string;
  path: string;
}

interface LayerLike {
  route?: { path: unknown; methods: Record<string, boolean> };
  handle?: { stack?: LayerLike[] };
}

function collect(stack: LayerLike[], out: DeclaredRoute[]): void {
  for (const layer of stack) {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      for (const method of Object.keys(layer.route.methods)) {
        for (const p of paths) {
          if (typeof p === 'string') out.push({ method: method.toUpperCase(), path: p });
        }
      }
    } else if (layer.handle?.stack) {
      collect(layer.handle.stack, out);
    }
  }
}

/**
 * Every route of the app, read from express's router stack (so a route added tomorrow is
 * listed without anyone updating a test). Routers must declare full paths (ours do).
 */
export function declaredRoutes(app: Express): DeclaredRoute[] {
  const router = (app as unknown as { router: { stack: LayerLike[] } }).router;
  const out: DeclaredRoute[] = [];
  collect(router.stack, out);
  return out;
}

/** A concrete URL path for a route pattern: `:id` → `x_1`, `:type` → `a.b`, `*rest` → `x`. */
export function samplePath(pattern: string): string {
  return pattern
    .replace(/:type\b/g, 'sample.type')
    .replace(/:[A-Za-z_]+/g, 'x_1')
    .replace(/\*[A-Za-z_]*/g, 'x')
    .replace(/[{}]/g, '');
}
