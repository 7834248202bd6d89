/*
 * Netron's view, hosted in an opaque origin: a sandboxed frame, or an HTML file opened from disk.
 *
 * The page that embeds the frame owns the model's bytes and hands them over by message; the
 * frame makes no request of its own, needs no cookie and no localStorage, and starts its
 * layout worker from a blob. The message channel (every message is an object with a `type`):
 *
 *   frame -> parent  {type: 'onnx-workbench:ready'}                  listening; send the model
 *   parent -> frame  {type: 'onnx-workbench:open', name, buffer}    buffer: an ArrayBuffer,
 *                                                                    transferred, not copied
 *   frame -> parent  {type: 'onnx-workbench:drawn', nodes}           the graph is on screen
 *   frame -> parent  {type: 'onnx-workbench:error', message}         netron could not open it
 *
 * An offline file carries its model in <script type="application/octet-stream"
 * id="onnx-workbench-model" data-name="..."> (base64) and opens it without any message.
 *
 * Netron parses a model only where this page's origin is opaque. Opened with a real origin
 * (JupyterLab's HTML viewer gives a trusted file the Jupyter server's origin; a web site
 * serving the file gives it its own), the page takes the model out and starts itself again
 * in a sandboxed frame, acting as that frame's parent.
 */

import * as base from 'netron/base.js';
import * as browser from 'netron/browser.js';
import * as view from 'netron/view.js';
import * as onnx from 'netron/onnx.js';
import * as onnxProto from 'netron/onnx-proto.js';
import * as onnxSchema from 'netron/onnx-schema.js';
import onnxMetadata from 'netron/onnx-metadata.json';
import workerSource from 'viewer:worker';

const PREFIX = 'onnx-workbench:';
const MODEL = 'onnx-workbench-model';
const NOTE = 'onnx-workbench-note';
const SANDBOX = 'allow-scripts allow-downloads';

// Only the ONNX reader is bundled: every other format netron would try for a file name
// (TensorRT, RKNN... also claim `.onnx`) answers "not mine".
const MODULES = new Map([
    ['./onnx', onnx],
    ['./onnx-proto', onnxProto],
    ['./onnx-schema', onnxSchema]
]);
const NOT_BUNDLED = { ModelFactory: class { async match() { return null; } } };
const ASSETS = new Map([['onnx-metadata.json', onnxMetadata]]);

/** A worker from the bundled layout script, or null where this origin cannot start one. */
const startWorker = () => {
    try {
        const url = URL.createObjectURL(new Blob([workerSource], { type: 'text/javascript' }));
        return new Worker(url);
    } catch {
        return null;
    }
};

/** What netron reads a model through: the bytes in memory, nothing else to fetch. */
class Context {

    constructor(host, identifier, stream) {
        this._host = host;
        this._identifier = identifier;
        this._stream = stream;
    }

    get identifier() {
        return this._identifier;
    }

    get name() {
        return this._identifier;
    }

    get stream() {
        return this._stream;
    }

    async asset(file) {
        return this._host.asset(file);
    }

    async fetch(file) {
        // Weights in external data files stay on the server: the graph draws without them.
        throw new Error(`'${file}' is not available in the graph viewer: it shows the graph without external data.`);
    }

    async require(id) {
        return this._host.require(id);
    }

    error() {
    }
}

class Host extends browser.Host {

    constructor() {
        super();
        this._settings = new Map();
        this._layout = startWorker();
        this._environment.serial = this._layout === null;
        this._environment.packaged = false;
    }

    async view(view) {
        // No age check, consent dialog, telemetry or capability report: nothing leaves the frame.
        this._view = view;
    }

    async start() {
        const embedded = this.document.getElementById(MODEL);
        if (embedded) {
            const { bytes, name } = takeModel(embedded);
            await this._openBytes(bytes, name);
            return;
        }
        this._view.show('welcome spinner');
        this.window.addEventListener('message', (event) => {
            const message = event.data;
            if (event.source !== this.window.parent || !message || message.type !== `${PREFIX}open`) {
                return;
            }
            if (!(message.buffer instanceof ArrayBuffer)) {
                this._tell('error', { message: 'The model arrived without its bytes.' });
                return;
            }
            this._openBytes(new Uint8Array(message.buffer), String(message.name || 'model.onnx'));
        });
        this._tell('ready');
    }

    async _openBytes(bytes, name) {
        this._view.show('welcome spinner');
        const context = new Context(this, name, new base.BinaryStream(bytes));
        const status = await this._openContext(context);
        if (status === '') {
            this._tell('drawn', { nodes: this.document.querySelectorAll('g.node').length });
        } else if (status !== 'context-open-error') { // (an error was told by message())
            this._tell('error', { message: `Netron found no graph it can show in ${name}.` });
        }
    }

    _tell(type, data) {
        if (this.window.parent !== this.window) {
            // The parent's origin cannot be named from an opaque origin; it only ever learns
            // what the frame would show anyway.
            this.window.parent.postMessage({ ...data, type: `${PREFIX}${type}` }, '*');
        }
    }

    async message(message, alert, action) {
        if (alert) {
            this._tell('error', { message: String(message || '') });
        }
        return super.message(message, alert, action);
    }

    async require(id) {
        return MODULES.get(id) || NOT_BUNDLED;
    }

    worker() {
        const layout = this._layout || startWorker();
        this._layout = null;
        return layout;
    }

    async asset(file) {
        if (ASSETS.has(file)) {
            return ASSETS.get(file);
        }
        throw new Error(`'${file}' is not part of the graph viewer.`);
    }

    openURL() {
    }

    exception() {
    }

    event() {
    }

    get(name) {
        return this._settings.get(name);
    }

    set(name, value) {
        this._settings.set(name, value);
    }

    delete(name) {
        this._settings.delete(name);
    }
}

/** The offline file's model: its bytes and name, taken out of the page with the note. */
const takeModel = (element) => {
    const bytes = decode(element.textContent);
    const name = element.dataset.name || 'model.onnx';
    element.remove();
    const note = document.getElementById(NOTE);
    if (note) {
        note.remove();
    }
    return { bytes, name };
};

/**
 * This page again, in a sandboxed frame that gets the model by message (see the top). The
 * frame's document is a clean copy (JupyterLab inserts a <base> whose URL carries its XSRF
 * token), loaded from a blob URL, whose base URL is its own. A frame that navigates away
 * (a hostile model can make netron's page do that) is sent back to the copy; a frame that
 * starts again gets the model again.
 */
const relaunch = () => {
    const embedded = document.getElementById(MODEL);
    if (!embedded) {
        // The served viewer page, opened without its sandbox: it parses nothing here.
        const text = document.createElement('p');
        text.textContent = 'The graph viewer only runs in a sandboxed frame. Show the graph from Python (workbench.show_graph) or open a saved graph file from disk.';
        document.body.replaceChildren(text);
        return;
    }
    const { bytes, name } = takeModel(embedded);
    const copy = document.documentElement.cloneNode(true);
    for (const element of copy.querySelectorAll('base')) {
        element.remove();
    }
    const page = URL.createObjectURL(new Blob([`<!DOCTYPE html>\n${copy.outerHTML}`], { type: 'text/html' }));
    const frame = document.createElement('iframe');
    frame.setAttribute('sandbox', SANDBOX);
    frame.setAttribute('referrerpolicy', 'no-referrer');
    frame.title = `Netron: ${name}`;
    frame.style.cssText = 'position: fixed; inset: 0; width: 100%; height: 100%; border: 0;';
    let loaded = false;
    let returning = false;
    let returns = 0;
    frame.addEventListener('load', () => {
        if (loaded && !returning) { // whatever it loaded, the copy again
            returning = true;
            returns += 1;
            frame.src = `${page}#${returns}`; // a new value: the same one would not navigate
            return;
        }
        loaded = true;
        returning = false;
    });
    window.addEventListener('message', (event) => {
        const message = event.data;
        if (event.source === frame.contentWindow && message && message.type === `${PREFIX}ready`) {
            // A copy each time (not transferred): the frame may start again.
            frame.contentWindow.postMessage({ type: `${PREFIX}open`, name, buffer: bytes.buffer.slice(0) }, '*');
        }
    });
    frame.src = page;
    document.body.replaceChildren(frame);
};

/** base64 text to bytes, in slices so a large model never needs a second whole-size string. */
const decode = (text) => {
    const clean = text.trim();
    const padding = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
    const bytes = new Uint8Array(clean.length / 4 * 3 - padding);
    const slice = 4 * 1024 * 1024;
    let offset = 0;
    for (let start = 0; start < clean.length; start += slice) {
        const binary = atob(clean.slice(start, start + slice));
        for (let i = 0; i < binary.length; i++) {
            bytes[offset++] = binary.charCodeAt(i);
        }
    }
    return bytes;
};

if (self.origin === 'null') {
    window.__view__ = new view.View(new Host());
    window.__view__.start();
} else {
    relaunch();
}
