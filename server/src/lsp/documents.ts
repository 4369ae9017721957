import { fileURLToPath, pathToFileURL } from 'node:url';
import { TextDocuments, type TextDocumentContentChangeEvent } from 'vscode-languageserver';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { OpenDocuments } from '../agent/workspace/workspace-files.js';
import { convertRange, type PositionEncoding } from './positions.js';

export function uriToPath(uri: string): string | undefined {
  if (!uri.startsWith('file:')) return undefined;
  try {
    return fileURLToPath(uri);
  } catch {
    return undefined;
  }
}

export function pathToUri(path: string): string {
  return pathToFileURL(path).href;
}

/**
 * Open documents with incremental sync. TextDocument counts in UTF-16, so each change's range is
 * converted from the negotiated encoding against the text it applies to, one change at a time
 * (later changes in a batch refer to the text after earlier ones).
 */
export class DocumentStore implements OpenDocuments {
  readonly documents: TextDocuments<TextDocument>;
  private readonly byPath = new Map<string, string>();

  constructor(private readonly encoding: () => PositionEncoding) {
    this.documents = new TextDocuments<TextDocument>({
      create: (uri, languageId, version, content) => TextDocument.create(uri, languageId, version, content),
      update: (document, changes, version) => this.update(document, changes, version),
    });
    this.documents.onDidOpen(({ document }) => {
      const path = uriToPath(document.uri);
      if (path) this.byPath.set(path, document.uri);
    });
    this.documents.onDidClose(({ document }) => {
      const path = uriToPath(document.uri);
      if (path) this.byPath.delete(path);
    });
  }

  private update(document: TextDocument, changes: TextDocumentContentChangeEvent[], version: number): TextDocument {
    const encoding = this.encoding();
    let current = document;
    for (const change of changes) {
      if ('range' in change && encoding !== 'utf-16') {
        const range = convertRange(current.getText(), change.range, encoding, 'utf-16');
        current = TextDocument.update(current, [{ range, text: change.text }], version);
      } else {
        current = TextDocument.update(current, [change], version);
      }
    }
    if (changes.length === 0) current = TextDocument.update(current, [], version);
    return current;
  }

  byUri(uri: string): TextDocument | undefined {
    return this.documents.get(uri);
  }

  paths(): string[] {
    return [...this.byPath.keys()];
  }

  get(absolutePath: string): { text: string; version: number } | undefined {
    const uri = this.byPath.get(absolutePath);
    const document = uri ? this.documents.get(uri) : undefined;
    return document ? { text: document.getText(), version: document.version } : undefined;
  }
}
