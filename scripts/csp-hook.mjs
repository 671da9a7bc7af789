// Trunk post-build hook: gives the page a Content-Security-Policy with no
// inline script. Trunk writes the wasm loader as an inline module script;
// this moves it into its own file (start-<hash>.js, named by its content)
// and puts the policy in a <meta> at the top of <head>, so that any static
// host serves the page under it. 'wasm-unsafe-eval' lets the page compile
// its WebAssembly; the machine's worker comes from the site only; style attributes are allowed (the components set sizes
// through them), style sheets only from the site itself.
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export const POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self'",
  "style-src 'self'",
  "style-src-attr 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) {
  console.error('csp-hook: TRUNK_STAGING_DIR is not set (run it as a Trunk hook)');
  process.exit(1);
}
const index = join(dir, 'index.html');
let html = readFileSync(index, 'utf8');
const inline = /<script type="module"(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g;
let moved = 0;
html = html.replace(inline, (_, code) => {
  const hash = createHash('sha256').update(code).digest('hex').slice(0, 16);
  const name = `start-${hash}.js`;
  writeFileSync(join(dir, name), code);
  moved += 1;
  return `<script type="module" src="/${name}"></script>`;
});
if (/<script(?![^>]*\bsrc=)[^>]*>/.test(html)) {
  console.error('csp-hook: an inline script is left in index.html');
  process.exit(1);
}
html = html.replace('<head>', `<head>\n    <meta http-equiv="Content-Security-Policy" content="${POLICY}" />`);
writeFileSync(index, html);
console.log(`csp-hook: moved ${moved} inline script(s) out; policy set`);
