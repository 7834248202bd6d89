/*
 * Netron's view, hosted in an opaque origin: a sandboxed frame, or an HTML file opened from disk.
 *
 * The page that embeds the frame owns the model's bytes and hands them over by message; the
 * frame makes no request of its own, needs no cookie and no localStorage, and starts its
 * layout worker from a blob. The message channel (every message is an object with a `type`):
 *
 *   frame -> parent  {type: 'onnx-workbench:ready'}                  listening; send the model
 *   parent -> frame  {type: 'onnx-workbench:open', name, buffer,    buffer: an ArrayBuffer,
 *                     overlay}                                       transferred, not copied;
 *                                                                    overlay: optional, below
 *   frame -> parent  {type: 'onnx-workbench:drawn', nodes, marked}   the graph is on screen;
 *                                                                    marked: overlay nodes drawn
 *   frame -> parent  {type: 'onnx-workbench:error', message}         netron could not open it
 *   parent -> frame  {type: 'onnx-workbench:reveal', node}           centre and select a node
 *
 * An overlay (graphview/overlay.py, Overlay.payload) is {title, nodes: {name: {fill, ink,
 * label, outline, details: [[key, value]...]}}, legend: {scale: {caption, stops, low, high}}
 * or {categories: [{fill, text}...]}, summary: [...], notes: [...], top: {caption, nodes}}.
 * Nodes are found by netron's element id, `node-name-<name>`; every string is model text and
 * is only ever set as text. The overlay is painted again whenever netron draws a graph (a
 * subgraph opened, the graph drawn anew), and drawn with its legend and top nodes in a panel.
 *
 * An offline file carries its model in <script type="application/octet-stream"
 * id="onnx-workbench-model" data-name="..."> (base64), and its overlay in <script
 * type="application/json" id="onnx-workbench-overlay">, and opens them without any message.
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
const OVERLAY = 'onnx-workbench-overlay';
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

/** Netron's view, painting the overlay each time it draws a graph. */
class View extends view.View {

    async render(target, signature) {
        const status = await super.render(target, signature);
        if (this._host.overlay) {
            this._host.overlay.paint();
        }
        return status;
    }
}

/** The overlay: node fills and labels, and a panel with the legend, top nodes and details. */
class Overlay {

    constructor(host, data) {
        this._host = host;
        this._data = data;
        this._nodes = new Map(Object.entries(data.nodes || {}));
        this._panel = null;
        this._details = null;
    }

    /** Fill, outline and label every node found on screen; the count found. */
    paint() {
        const document = this._host.document;
        // Reads first, then writes: a size read after a change makes the browser lay the
        // page out again, once per node.
        const found = [];
        for (const [name, mark] of this._nodes) {
            const element = document.getElementById(`node-name-${name}`);
            if (element) {
                const labelled = mark.label && !element.querySelector('.wb-overlay-label');
                found.push([element, mark, labelled ? element.getBBox().width : null]);
            }
        }
        for (const [element, mark, width] of found) {
            const type = element.querySelector('.node-item-type');
            if (type && colour(mark.fill)) {
                for (const path of type.querySelectorAll('path')) {
                    path.style.fill = mark.fill;
                }
                for (const text of type.querySelectorAll('text')) {
                    text.style.fill = colour(mark.ink) ? mark.ink : '';
                }
            }
            const border = element.querySelector('path.node-border');
            if (border && colour(mark.outline)) {
                border.style.stroke = mark.outline;
                border.style.strokeWidth = '4px';
            }
            if (width !== null) {
                const label = document.createElementNS('http://www.w3.org/2000/svg', 'text');
                label.setAttribute('class', 'wb-overlay-label');
                label.setAttribute('x', String(width + 6));
                label.setAttribute('y', '14');
                label.textContent = mark.label;
                element.appendChild(label);
            }
        }
        this._marked = found.length;
        return found.length;
    }

    get marked() {
        return this._marked || 0;
    }

    /** The panel beside the graph: title, legend, summary, notes, top nodes, selection. */
    show() {
        const document = this._host.document;
        const data = this._data;
        const style = document.createElement('style');
        style.textContent = PANEL_STYLE;
        document.head.appendChild(style);
        const panel = element(document, 'div', 'wb-overlay');
        const head = element(document, 'div', 'wb-overlay-title', String(data.title || 'Overlay'));
        const fold = element(document, 'button', 'wb-overlay-fold', '−');
        fold.title = 'Fold the overlay panel';
        head.appendChild(fold);
        panel.appendChild(head);
        const body = element(document, 'div', 'wb-overlay-body');
        fold.addEventListener('click', () => {
            const hidden = body.style.display === 'none';
            body.style.display = hidden ? '' : 'none';
            fold.textContent = hidden ? '−' : '+';
        });
        body.appendChild(this._legend(document, data.legend || {}));
        for (const line of data.summary || []) {
            body.appendChild(element(document, 'div', 'wb-overlay-line', String(line)));
        }
        for (const line of data.notes || []) {
            body.appendChild(element(document, 'div', 'wb-overlay-note', String(line)));
        }
        const top = data.top || {};
        if (Array.isArray(top.nodes) && top.nodes.length > 0) {
            body.appendChild(element(document, 'div', 'wb-overlay-caption', String(top.caption || '')));
            const list = element(document, 'ol', 'wb-overlay-top');
            for (const name of top.nodes) {
                const mark = this._nodes.get(name) || {};
                const item = element(document, 'li', 'wb-overlay-row');
                item.appendChild(element(document, 'span', 'wb-overlay-name', String(name)));
                item.appendChild(element(document, 'span', 'wb-overlay-value', String(mark.label || '')));
                item.title = `Show ${name} in the graph`;
                item.addEventListener('click', () => this.reveal(String(name)));
                list.appendChild(item);
            }
            body.appendChild(list);
        }
        this._details = element(document, 'div', 'wb-overlay-details');
        body.appendChild(this._details);
        panel.appendChild(body);
        document.body.appendChild(panel);
        this._panel = panel;
        // Selecting a node in the graph shows its values here.
        document.addEventListener('click', (event) => {
            const node = event.target && event.target.closest ? event.target.closest('g.node') : null;
            if (node && node.id.startsWith('node-name-')) {
                this.details(node.id.slice('node-name-'.length));
            }
        }, true);
    }

    _legend(document, legend) {
        const box = element(document, 'div', 'wb-overlay-legend');
        if (legend.scale) {
            const scale = legend.scale;
            box.appendChild(element(document, 'div', 'wb-overlay-caption', String(scale.caption || '')));
            const bar = element(document, 'div', 'wb-overlay-bar');
            const stops = (scale.stops || []).filter(colour);
            bar.style.background = `linear-gradient(to right, ${stops.join(', ')})`;
            box.appendChild(bar);
            const ends = element(document, 'div', 'wb-overlay-ends');
            ends.appendChild(element(document, 'span', '', String(scale.low || '')));
            ends.appendChild(element(document, 'span', '', String(scale.high || '')));
            box.appendChild(ends);
        }
        for (const category of legend.categories || []) {
            const row = element(document, 'div', 'wb-overlay-category');
            const swatch = element(document, 'span', 'wb-overlay-swatch');
            swatch.style.background = colour(category.fill) ? category.fill : '';
            row.appendChild(swatch);
            row.appendChild(element(document, 'span', '', String(category.text || '')));
            box.appendChild(row);
        }
        return box;
    }

    /** The selected node's overlay values in the panel. */
    details(name) {
        if (!this._details) {
            return;
        }
        this._details.replaceChildren();
        const mark = this._nodes.get(name);
        const document = this._host.document;
        this._details.appendChild(element(document, 'div', 'wb-overlay-caption', name));
        if (!mark) {
            this._details.appendChild(element(document, 'div', 'wb-overlay-line', 'No overlay value for this node.'));
            return;
        }
        const table = element(document, 'table', '');
        for (const [key, value] of mark.details || []) {
            const row = element(document, 'tr', '');
            row.appendChild(element(document, 'th', '', String(key)));
            row.appendChild(element(document, 'td', '', String(value)));
            table.appendChild(row);
        }
        this._details.appendChild(table);
    }

    reveal(name) {
        this.details(name);
        return reveal(this._host._view, name);
    }
}

/** Centre and select a node of the graph on screen; false if it is not there. */
const reveal = (view, name) => {
    const target = view ? view.target : null;
    if (!target || !target._table) {
        return false;
    }
    for (const [value, entry] of target._table) {
        if (entry && entry.id === `node-name-${name}`) {
            target.scrollTo(target.select([value]));
            return true;
        }
    }
    return false;
};

const PANEL_STYLE = `
.wb-overlay { position: fixed; top: 8px; right: 8px; z-index: 5; width: 300px; max-height: calc(100% - 60px);
  overflow: auto; font: 12px -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, sans-serif;
  background: rgba(255, 255, 255, 0.95); color: #222; border: 1px solid #ccc; border-radius: 4px; padding: 6px 8px; }
.wb-overlay-title { font-weight: 600; display: flex; justify-content: space-between; align-items: center; }
.wb-overlay-fold { border: 0; background: none; color: inherit; font-size: 14px; cursor: pointer; }
.wb-overlay-caption { font-weight: 600; margin-top: 6px; word-break: break-all; }
.wb-overlay-line { margin-top: 4px; }
.wb-overlay-note { margin-top: 4px; color: #8a4b00; }
.wb-overlay-bar { height: 10px; border-radius: 2px; margin-top: 2px; }
.wb-overlay-ends { display: flex; justify-content: space-between; }
.wb-overlay-category { display: flex; align-items: center; gap: 6px; margin-top: 2px; }
.wb-overlay-swatch { width: 12px; height: 12px; border-radius: 2px; display: inline-block; }
.wb-overlay-top { margin: 4px 0 0; padding-left: 20px; }
.wb-overlay-row { cursor: pointer; padding: 1px 0; }
.wb-overlay-row:hover { text-decoration: underline; }
.wb-overlay-name { word-break: break-all; }
.wb-overlay-value { margin-left: 6px; color: #555; }
.wb-overlay-details table { border-collapse: collapse; margin-top: 2px; }
.wb-overlay-details th { text-align: left; font-weight: normal; color: #555; padding-right: 8px; vertical-align: top; }
.wb-overlay-details td { word-break: break-all; }
.wb-overlay-label { font-size: 10px; fill: #333; pointer-events: none; }
@media (prefers-color-scheme: dark) {
  .wb-overlay { background: rgba(36, 36, 36, 0.95); color: #ddd; border-color: #555; }
  .wb-overlay-note { color: #f0b060; }
  .wb-overlay-value, .wb-overlay-details th { color: #aaa; }
  .wb-overlay-label { fill: #ccc; }
}
`;

/** Whether `value` is a colour as the overlay gives them (#rrggbb), and nothing else. */
const colour = (value) => typeof value === 'string' && /^#[0-9a-f]{6}$/i.test(value);

/** A new element with a class and text (never HTML). */
const element = (document, tag, className, text) => {
    const node = document.createElement(tag);
    if (className) {
        node.className = className;
    }
    if (text !== undefined) {
        node.textContent = text;
    }
    return node;
};

class Host extends browser.Host {

    constructor() {
        super();
        this.overlay = null;
        this._drawn = false;
        this._pendingReveal = null;
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
            const { bytes, name, overlay } = takeModel(embedded);
            await this._openBytes(bytes, name, overlay);
            return;
        }
        this._view.show('welcome spinner');
        this.window.addEventListener('message', (event) => {
            const message = event.data;
            if (event.source !== this.window.parent || !message) {
                return;
            }
            if (message.type === `${PREFIX}reveal`) {
                this._reveal(String(message.node));
                return;
            }
            if (message.type !== `${PREFIX}open`) {
                return;
            }
            if (!(message.buffer instanceof ArrayBuffer)) {
                this._tell('error', { message: 'The model arrived without its bytes.' });
                return;
            }
            const overlay = message.overlay && typeof message.overlay === 'object' ? message.overlay : null;
            this._openBytes(new Uint8Array(message.buffer), String(message.name || 'model.onnx'), overlay);
        });
        this._tell('ready');
    }

    async _openBytes(bytes, name, overlay) {
        this._view.show('welcome spinner');
        if (overlay && !this.overlay) {
            this.overlay = new Overlay(this, overlay);
        }
        const context = new Context(this, name, new base.BinaryStream(bytes));
        const status = await this._openContext(context);
        if (status === '') {
            if (this.overlay && !this.overlay._panel) {
                this.overlay.show();
            }
            const marked = this.overlay ? this.overlay.marked : 0;
            this._drawn = true;
            this._tell('drawn', { nodes: this.document.querySelectorAll('g.node').length, marked });
            if (this._pendingReveal !== null) {
                this._reveal(this._pendingReveal);
                this._pendingReveal = null;
            }
        } else if (status !== 'context-open-error') { // (an error was told by message())
            this._tell('error', { message: `Netron found no graph it can show in ${name}.` });
        }
    }

    _reveal(name) {
        if (!this._drawn) { // the last node asked for waits for the graph
            this._pendingReveal = name;
        } else if (this.overlay) {
            this.overlay.reveal(name);
        } else {
            reveal(this._view, name);
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

/** The offline file's model: its bytes, name and overlay, taken out of the page with the note. */
const takeModel = (embedded) => {
    const bytes = decode(embedded.textContent);
    const name = embedded.dataset.name || 'model.onnx';
    embedded.remove();
    const note = document.getElementById(NOTE);
    if (note) {
        note.remove();
    }
    let overlay = null;
    const data = document.getElementById(OVERLAY);
    if (data) {
        try {
            overlay = JSON.parse(data.textContent);
        } catch {
            overlay = null; // the graph draws without it
        }
        data.remove();
    }
    return { bytes, name, overlay };
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
    const { bytes, name, overlay } = takeModel(embedded);
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
            frame.contentWindow.postMessage({ type: `${PREFIX}open`, name, buffer: bytes.buffer.slice(0), overlay }, '*');
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
    window.__view__ = new View(new Host());
    window.__view__.start();
} else {
    relaunch();
}
