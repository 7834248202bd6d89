// Builds the graph viewer: netron's web app and src/host.js as one HTML page with no
// external file, fit for an opaque origin (a sandboxed frame, or a file opened from disk).
//
//   node build.mjs NETRON_DIR OUT_DIR NETRON_VERSION
//
// NETRON_DIR is the installed netron Python package (its web app files). The build fails
// when that is not the release NETRON_VERSION or its page changed layout, and it is
// reproducible: the same inputs give the same bytes (OUT_DIR/manifest.json records them).

import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as esbuild from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const [netronDir, outDir, pinned] = process.argv.slice(2).map((arg, index) => (index < 2 ? resolve(arg) : arg));
if (!netronDir || !outDir || !pinned) {
    throw new Error('usage: node build.mjs NETRON_DIR OUT_DIR NETRON_VERSION');
}

const fail = (message) => {
    process.stderr.write(`onnx-workbench viewer build: ${message}\n`);
    process.exit(1);
};

const sha256 = (data) => createHash('sha256').update(data).digest('hex');

const index = readFileSync(join(netronDir, 'index.html'), 'utf-8');
const found = /<meta name="version" content="([^"]*)">/.exec(index);
if (!found || found[1] !== pinned) {
    fail(`netron at ${netronDir} is ${found ? found[1] : 'of unknown version'}, not the pinned ${pinned}: install "netron==${pinned}", or update the pin and check the viewer still draws (tests/integration).`);
}

const inputs = new Map();
const read = (path, encoding) => {
    const data = readFileSync(path);
    inputs.set(path.startsWith(netronDir) ? `netron/${path.slice(netronDir.length + 1)}` : path.slice(here.length + 1), sha256(data));
    return encoding ? data.toString(encoding) : data;
};

// netron's modules (netron/x.js) come from NETRON_DIR; every file read is recorded.
const netron = {
    name: 'netron',
    setup(build) {
        build.onResolve({ filter: /^netron\// }, (args) => ({ path: join(netronDir, args.path.slice('netron/'.length)) }));
        // Node's built-ins: netron imports them only when it runs under Node, never here.
        build.onResolve({ filter: /^(fs|zlib|worker_threads|path|url|crypto|os|child_process)$/ }, (args) => ({ path: args.path, external: true }));
        build.onResolve({ filter: /^viewer:worker$/ }, () => ({ path: 'worker', namespace: 'viewer' }));
        build.onLoad({ filter: /\.js$/ }, (args) => ({ contents: read(args.path, 'utf-8'), loader: 'js' }));
        build.onLoad({ filter: /\.json$/ }, (args) => ({ contents: read(args.path, 'utf-8'), loader: 'text' }));
        build.onLoad({ filter: /.*/, namespace: 'viewer' }, async () => {
            const worker = await bundle(join(netronDir, 'worker.js'));
            return { contents: worker, loader: 'text' };
        });
    }
};

const bundle = async (entry) => {
    const result = await esbuild.build({
        entryPoints: [entry],
        bundle: true,
        format: 'iife',
        platform: 'browser',
        target: ['chrome110', 'firefox115', 'safari16'],
        minify: true,
        legalComments: 'none',
        charset: 'utf8',
        write: false,
        logLevel: 'warning',
        plugins: [netron]
    });
    // Inlined in a <script> element: no `</script` may end it early.
    return result.outputFiles[0].text.replace(/<\/(script)/gi, '<\\/$1');
};

// The build's own inputs too: hatch_build.py skips a rebuild when none of ours changed.
read(join(here, 'build.mjs'));
read(join(here, 'package-lock.json'));
const script = await bundle(join(here, 'src', 'host.js'));
const styles = read(join(netronDir, 'grapher.css'), 'utf-8');
const hash = (text) => `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
// Only the inline script runs; only the layout worker (from a blob) starts; nothing connects.
const policy = [
    "default-src 'none'",
    `script-src ${hash(script)}`,
    'worker-src blob:',
    // Only for an offline file that finds itself with a real origin: it relaunches itself
    // in a sandboxed frame from a blob (see src/host.js).
    'frame-src blob:',
    "style-src 'unsafe-inline'",
    'img-src data: blob:',
    'font-src data:',
    "connect-src 'none'",
    "form-action 'none'",
    "base-uri 'none'"
].join('; ');

const edits = [
    // The release date drives netron's "Please update" check; the version its telemetry.
    [/<meta name="version" content="[^"]*">\n/, ''],
    [/<meta name="date" content="[^"]*">\n/, ''],
    [/<meta http-equiv="Content-Security-Policy" content="[^"]*">/, `<meta http-equiv="Content-Security-Policy" content="${policy}">`],
    [/<link rel="stylesheet" type="text\/css" href="grapher.css">/, () => `<style>\n${styles}</style>`],
    // No icon requests: a page that loads nothing.
    [/(<link rel="[a-z -]*icon[a-z-]*" type="image\/[a-z-]*" href="[a-z.]*">\n)+/, '<link rel="icon" href="data:,">\n'],
    [/<script type="text\/javascript" src="index.js"><\/script>\n/, ''],
    [/<\/body>/, () => `<!-- onnx-workbench:model -->\n<script>${script}</script>\n</body>`]
];
let page = index;
for (const [pattern, replacement] of edits) {
    const matches = page.match(new RegExp(pattern.source, 'g')) || [];
    if (matches.length !== 1) {
        fail(`netron ${pinned}'s index.html does not have the layout this build edits (${pattern} matched ${matches.length} times).`);
    }
    page = page.replace(pattern, replacement);
}

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'netron-viewer.html'), page);
const manifest = {
    netron: pinned,
    esbuild: esbuild.version,
    page: sha256(page),
    script: hash(script),
    bytes: Buffer.byteLength(page),
    inputs: Object.fromEntries([...inputs.entries()].sort())
};
writeFileSync(join(outDir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
process.stdout.write(`viewer: ${outDir}/netron-viewer.html, ${(manifest.bytes / 1e6).toFixed(1)} MB (netron ${pinned}, esbuild ${esbuild.version})\n`);
