/**
 * Open .onnx and .ort files in a Netron tab, and explore them in a new notebook or console.
 *
 * The viewer is the page the onnx-workbench server extension serves: Netron bundled to run
 * in a sandboxed frame with an opaque origin, so a model that exploits a parser bug cannot
 * reach this page, its cookies or the Jupyter API. The tab fetches the file's bytes once,
 * streamed through the server's contents root with the user's credentials, and transfers
 * them to the frame (the protocol: extensions/viewer/src/host.js). The document model
 * itself loads no content: its factory asks the contents API for metadata only.
 */

import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, WidgetTracker } from '@jupyterlab/apputils';
import { PageConfig, PathExt, URLExt } from '@jupyterlab/coreutils';
import {
  ABCWidgetFactory,
  DocumentRegistry,
  DocumentWidget,
  IDocumentWidget,
  TextModelFactory
} from '@jupyterlab/docregistry';
import { IFileBrowserFactory } from '@jupyterlab/filebrowser';
import { Contents, ServerConnection } from '@jupyterlab/services';
import { LabIcon, refreshIcon, ToolbarButton } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import onnxSvg from '../style/onnx.svg';

const FACTORY = 'Netron';
const FILE_TYPE = 'onnx';
const MODEL_FACTORY = 'onnx-workbench-metadata-only';
/** Set by the server extension; absent when it is not enabled on this server. */
const LIMIT_OPTION = 'onnxWorkbenchMaxViewBytes';
/** The viewer page, relative to the base URL; absent when the viewer is not built. */
const VIEWER_OPTION = 'onnxWorkbenchViewer';
/** The frame's sandbox flags (never allow-same-origin), as the server extension says. */
const SANDBOX_OPTION = 'onnxWorkbenchSandbox';
const MESSAGE = 'onnx-workbench:';

namespace CommandIDs {
  export const exploreInNotebook = 'onnx-workbench:explore-in-notebook';
  export const exploreInConsole = 'onnx-workbench:explore-in-console';
  export const openInNetron = 'onnx-workbench:open-in-netron';
}

export const onnxIcon = new LabIcon({ name: 'onnx-workbench:onnx', svgstr: onnxSvg });

/** A model factory that loads nothing: the view streams the file to its frame itself. */
class MetadataOnlyModelFactory extends TextModelFactory {
  constructor() {
    super(false);
  }

  get name(): string {
    return MODEL_FACTORY;
  }

  get contentType(): Contents.ContentType {
    return 'file';
  }

  get fileFormat(): Contents.FileFormat {
    return null;
  }
}

/** Netron in a sandboxed frame, or a message saying why the model cannot be shown. */
export class NetronView extends Widget {
  constructor(
    private readonly _context: DocumentRegistry.Context,
    private readonly _contents: Contents.IManager
  ) {
    super();
    this.addClass('jp-OnnxWorkbench-view');
    void _context.ready.then(() => this.render());
    _context.pathChanged.connect(() => void this.render(), this);
  }

  /** Show the graph (again): after a rename, or when the file changed on disk. */
  async render(): Promise<void> {
    const path = this._contents.localPath(this._context.path);
    const name = PathExt.basename(path);
    // The document's own contents model carries no size: ask for the file's metadata.
    const { size } = await this._contents.get(this._context.path, { content: false });
    this._stopListening();
    this.node.replaceChildren();
    const limitOption = PageConfig.getOption(LIMIT_OPTION);
    if (!limitOption) {
      this._say(
        `${name} cannot be shown: the onnx-workbench server extension is not enabled on ` +
          'this Jupyter server, so there is no viewer to open it in.',
        'Enable it with `jupyter server extension enable workbench`, then restart the server.'
      );
      return;
    }
    const viewer = PageConfig.getOption(VIEWER_OPTION);
    if (!viewer) {
      this._say(
        `${name} cannot be shown: the graph viewer of onnx-workbench is not built on this ` +
          'Jupyter server.',
        'Reinstall onnx-workbench (pip install onnx-workbench), then restart the server; ' +
          'the server log says more.'
      );
      return;
    }
    const limit = Number(limitOption);
    if (typeof size === 'number' && size > limit) {
      this._say(
        `${name} is ${formatBytes(size)}; the graph viewer opens models up to ` +
          `${formatBytes(limit)} in the browser, and a larger one would freeze this tab.`,
        `Inspect it in Python instead: workbench.load(${JSON.stringify(name)}) in a ` +
          'notebook next to it (the "Explore ONNX Model" commands do this). To raise the ' +
          'limit, set c.OnnxWorkbench.max_view_bytes in the Jupyter server configuration.'
      );
      return;
    }
    const frame = document.createElement('iframe');
    frame.className = 'jp-OnnxWorkbench-frame';
    frame.title = `Netron: ${name}`;
    frame.setAttribute('sandbox', PageConfig.getOption(SANDBOX_OPTION) || 'allow-scripts');
    frame.setAttribute('referrerpolicy', 'no-referrer');
    const status = document.createElement('div');
    status.className = 'jp-OnnxWorkbench-status';
    const url = PageConfig.getBaseUrl() + viewer;
    const abort = new AbortController();
    this._abort = abort;
    const progress = (fraction: number) => {
      status.textContent = `Loading ${name}: ${Math.round(fraction * 100)}%`;
    };
    let pending: Promise<ArrayBuffer> | null = readModel(path, abort.signal, progress);
    pending.catch(() => undefined);
    let ready = false;
    let loaded = false;
    let returning = false;
    let returns = 0;
    frame.addEventListener('load', () => {
      if (loaded && !returning) {
        // It loaded something else (a hostile model can make the page navigate) or started
        // again: back to the viewer, which asks for the model again.
        returning = true;
        returns += 1;
        frame.src = `${url}#${returns}`; // a new value: the same one would not navigate
        return;
      }
      returning = false;
      if (loaded) {
        return;
      }
      loaded = true;
      window.setTimeout(() => {
        // A page that never answers (not the viewer, or blocked): say so, stop the download.
        if (!ready) {
          pending = null;
          abort.abort();
          status.textContent =
            'The graph viewer did not start: reload the tab, and check that onnx-workbench ' +
            'is installed the same way on the server.';
        }
      }, 20000);
    });
    this._listener = (event: MessageEvent) => {
      const message = event.data;
      if (event.source !== frame.contentWindow || !message || typeof message.type !== 'string') {
        return;
      }
      if (message.type === `${MESSAGE}ready`) {
        ready = true;
        // The first buffer leaves this page when sent: a frame that starts again gets a new one.
        let bytes = pending;
        if (!bytes) {
          const again = new AbortController();
          this._abort = again;
          bytes = readModel(path, again.signal, progress);
        }
        pending = null;
        bytes.then(
          buffer => {
            status.textContent = `Drawing ${name}…`;
            frame.contentWindow?.postMessage(
              { type: `${MESSAGE}open`, name, buffer },
              '*',
              [buffer]
            );
          },
          (error: Error) => {
            status.textContent = `The graph viewer could not load ${name}: ${error.message}`;
          }
        );
      } else if (message.type === `${MESSAGE}drawn`) {
        status.textContent = '';
      } else if (message.type === `${MESSAGE}error`) {
        status.textContent = `Netron could not open ${name}: ${String(message.message).slice(0, 500)}`;
      }
    };
    window.addEventListener('message', this._listener);
    frame.src = url;
    this.node.append(frame, status);
  }

  dispose(): void {
    this._stopListening();
    super.dispose();
  }

  /** Stop what a previous render started: its listener, and a download still running. */
  private _stopListening(): void {
    if (this._listener) {
      window.removeEventListener('message', this._listener);
      this._listener = null;
    }
    this._abort?.abort();
    this._abort = null;
  }

  private _say(message: string, hint: string): void {
    const box = document.createElement('div');
    box.className = 'jp-OnnxWorkbench-message';
    const what = document.createElement('p');
    what.textContent = message;
    const next = document.createElement('p');
    next.className = 'jp-OnnxWorkbench-hint';
    next.textContent = hint;
    box.append(what, next);
    this.node.appendChild(box);
  }

  private _listener: ((event: MessageEvent) => void) | null = null;
  private _abort: AbortController | null = null;
}

/**
 * A file under the server's root, read with the user's credentials into one buffer of its
 * announced size. With a BYOB reader the network writes straight into it, so a large model
 * is never held twice; the buffer is then transferred to the frame.
 */
async function readModel(
  path: string,
  signal: AbortSignal,
  progress: (fraction: number) => void
): Promise<ArrayBuffer> {
  const settings = ServerConnection.makeSettings();
  const url = URLExt.join(settings.baseUrl, 'onnx-workbench/api/files', URLExt.encodeParts(path));
  const response = await ServerConnection.makeRequest(url, { signal }, settings);
  if (!response.ok) {
    let message = `the server answered ${response.status}.`;
    try {
      message = (await response.json()).message ?? message;
    } catch {
      // not JSON: keep the status
    }
    throw new Error(message);
  }
  const total = Number(response.headers.get('Content-Length'));
  if (!total || !response.body || response.headers.get('Content-Encoding')) {
    return response.arrayBuffer(); // (a compressed answer's size is not the body's)
  }
  let buffer = new ArrayBuffer(total);
  let offset = 0;
  let byob: ReadableStreamBYOBReader | null = null;
  try {
    byob = response.body.getReader({ mode: 'byob' });
  } catch {
    // not a byte stream in this browser: copy each chunk in
  }
  const plain = byob ? null : response.body.getReader();
  const fail = async (message: string): Promise<never> => {
    await (byob ?? plain)!.cancel();
    throw new Error(message);
  };
  for (;;) {
    const full = offset === total;
    // Once full, one more read must find the end: a longer body is not this file.
    const chunk = byob
      ? await byob.read(full ? new Uint8Array(1) : new Uint8Array(buffer, offset, total - offset))
      : await plain!.read();
    if (chunk.done) {
      return full ? buffer : fail(`the download stopped after ${offset} of ${total} bytes.`);
    }
    if (full || offset + chunk.value.byteLength > total) {
      return fail('the file is larger than the server announced.');
    }
    if (byob) {
      buffer = chunk.value.buffer as ArrayBuffer; // the same memory, handed back
    } else {
      new Uint8Array(buffer).set(chunk.value, offset);
    }
    offset += chunk.value.byteLength;
    progress(offset / total);
  }
}

/** Documents of the Netron factory. */
class NetronFactory extends ABCWidgetFactory<IDocumentWidget<NetronView>> {
  constructor(
    options: DocumentRegistry.IWidgetFactoryOptions<IDocumentWidget<NetronView>>,
    private readonly _contents: Contents.IManager
  ) {
    super(options);
  }

  protected createNewWidget(
    context: DocumentRegistry.Context
  ): IDocumentWidget<NetronView> {
    const content = new NetronView(context, this._contents);
    const widget = new DocumentWidget({ content, context });
    widget.title.icon = onnxIcon;
    widget.toolbar.addItem(
      'reload',
      new ToolbarButton({
        icon: refreshIcon,
        tooltip: 'Reload the graph from disk',
        onClick: () => {
          void content.render();
        }
      })
    );
    return widget;
  }
}

function formatBytes(count: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = count;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${count} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}

function isModelPath(path: string): boolean {
  return /\.(onnx|ort)$/i.test(path);
}

/** The Python that opens the explorer on `name`, a file in the kernel's folder. */
function explorerCode(name: string): string {
  return `import workbench\n\nworkbench.explore(${JSON.stringify(name)})`;
}

const plugin: JupyterFrontEndPlugin<void> = {
  id: 'onnx-workbench:plugin',
  description: 'Open ONNX models in Netron; explore them in a notebook or console.',
  autoStart: true,
  optional: [ICommandPalette, IFileBrowserFactory, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    palette: ICommandPalette | null,
    browsers: IFileBrowserFactory | null,
    restorer: ILayoutRestorer | null
  ) => {
    const { commands, docRegistry, serviceManager } = app;
    const contents = serviceManager.contents;

    docRegistry.addModelFactory(new MetadataOnlyModelFactory());
    docRegistry.addFileType({
      name: FILE_TYPE,
      displayName: 'ONNX model',
      extensions: ['.onnx', '.ort'],
      mimeTypes: ['application/octet-stream'],
      contentType: 'file',
      fileFormat: null,
      icon: onnxIcon
    });
    const factory = new NetronFactory(
      {
        name: FACTORY,
        label: 'Netron',
        fileTypes: [FILE_TYPE],
        defaultFor: [FILE_TYPE],
        modelName: MODEL_FACTORY,
        readOnly: true,
        canStartKernel: false
      },
      contents
    );
    docRegistry.addWidgetFactory(factory);

    const tracker = new WidgetTracker<IDocumentWidget<NetronView>>({
      namespace: 'onnx-workbench-netron'
    });
    factory.widgetCreated.connect((_, widget) => {
      widget.context.pathChanged.connect(() => void tracker.save(widget));
      void tracker.add(widget);
    });
    if (restorer) {
      void restorer.restore(tracker, {
        command: 'docmanager:open',
        args: widget => ({ path: widget.context.path, factory: FACTORY }),
        name: widget => widget.context.path
      });
    }

    /** The model a command acts on: the Netron tab in front, else the file browser's selection. */
    const target = (): string | null => {
      const current = app.shell.currentWidget;
      if (current && tracker.has(current)) {
        return contents.localPath(tracker.currentWidget!.context.path);
      }
      const browser = browsers?.tracker.currentWidget;
      if (browser) {
        for (const item of browser.selectedItems()) {
          if (item.type !== 'directory' && isModelPath(item.path)) {
            return contents.localPath(item.path);
          }
        }
      }
      return null;
    };

    commands.addCommand(CommandIDs.openInNetron, {
      label: 'Open ONNX Model in Netron',
      caption: 'Show the selected model’s graph in a Netron tab',
      icon: onnxIcon,
      isEnabled: () => target() !== null,
      execute: () => {
        const path = target();
        return path && commands.execute('docmanager:open', { path, factory: FACTORY });
      }
    });

    commands.addCommand(CommandIDs.exploreInNotebook, {
      label: 'Explore ONNX Model in a New Notebook',
      caption: 'A new notebook next to the model, running workbench.explore() on it',
      icon: onnxIcon,
      isEnabled: () => target() !== null,
      execute: async () => {
        const path = target();
        if (!path) {
          return;
        }
        const created = await contents.newUntitled({
          path: PathExt.dirname(path),
          type: 'notebook'
        });
        await contents.save(created.path, {
          type: 'notebook',
          format: 'json',
          content: notebookFor(PathExt.basename(path))
        });
        const widget: any = await commands.execute('docmanager:open', {
          path: created.path
        });
        // In JupyterLab the notebook opens here: run its cell. Notebook 7 opens it in a
        // new browser tab, where the user runs it.
        if (widget?.sessionContext && widget?.content?.widgets) {
          await widget.context.ready;
          await widget.sessionContext.ready;
          await commands.execute('notebook:run-all-cells');
        }
        return widget;
      }
    });

    commands.addCommand(CommandIDs.exploreInConsole, {
      label: 'Explore ONNX Model in a New Console',
      caption: 'A Python console next to the model, running workbench.explore() on it',
      icon: onnxIcon,
      isEnabled: () => target() !== null,
      execute: async () => {
        const path = target();
        if (!path) {
          return;
        }
        const panel: any = await commands.execute('console:create', {
          basePath: PathExt.dirname(path),
          activate: true,
          kernelPreference: { name: 'python3' }
        });
        await panel.sessionContext.ready;
        panel.console.inject(explorerCode(PathExt.basename(path)));
        return panel;
      }
    });

    const selector = '.jp-DirListing-item[data-file-type="onnx"]';
    app.contextMenu.addItem({ command: CommandIDs.exploreInNotebook, selector, rank: 3 });
    app.contextMenu.addItem({ command: CommandIDs.exploreInConsole, selector, rank: 3 });
    if (palette) {
      for (const command of Object.values(CommandIDs)) {
        palette.addItem({ command, category: 'ONNX Workbench' });
      }
    }
  }
};

/** A one-cell notebook (nbformat 4) that explores `name`. */
function notebookFor(name: string): any {
  return {
    cells: [
      {
        cell_type: 'code',
        execution_count: null,
        id: 'explore',
        metadata: {},
        outputs: [],
        source: explorerCode(name)
      }
    ],
    metadata: {
      kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' },
      language_info: { name: 'python' }
    },
    nbformat: 4,
    nbformat_minor: 5
  };
}

export default plugin;
