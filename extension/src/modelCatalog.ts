/**
 * modelCatalog: the models this window offers, under the ids announced to the
 * responder, and the default model. Pure: no `vscode` at run time, so it is
 * unit-tested and usable from plain Node with scripted model objects.
 *
 * Id choice: `vendor/family` (e.g. `copilot/gpt-4o`) is short, stable across
 * VS Code versions and close to what OpenAI clients expect, and the responder
 * also accepts the bare family. When several models share a vendor/family
 * (two versions of one family, or providers that reuse a family name), none
 * of them gets it: each is announced under its VS Code model id instead, so
 * an id never silently means a different model.
 */
import type { Announcement, ModelCapabilities, ModelEntry } from './protocol';

/**
 * `LanguageModelChat.capabilities` as VS Code builds have it at run time: a
 * proposed API (languageModelCapabilities), so not in @types/vscode; both
 * fields are read only when they are booleans.
 */
export interface ChatModelCapabilities {
  readonly supportsImageToText?: unknown;
  readonly supportsToolCalling?: unknown;
}

/** The fields of vscode.LanguageModelChat the catalog reads. */
export interface ChatModelInfo {
  readonly id: string;
  readonly vendor: string;
  readonly family: string;
  readonly name: string;
  readonly version: string;
  readonly maxInputTokens: number;
  /**
   * ChatModelCapabilities in VS Code builds that have it; absent from older
   * ones (and from @types/vscode), hence unknown until checked.
   */
  readonly capabilities?: unknown;
}

/**
 * The model's capabilities as announced (`image_input`, `tool_calling`), or
 * undefined when this VS Code does not report them: feature detection, since
 * the property is a proposed API that older builds lack.
 */
export function capabilitiesOf(model: ChatModelInfo): ModelCapabilities | undefined {
  let raw: unknown;
  try {
    raw = model.capabilities;
  } catch {
    return undefined; // a throwing getter: as good as absent
  }
  if (typeof raw !== 'object' || raw === null) {
    return undefined;
  }
  const { supportsImageToText, supportsToolCalling } = raw as ChatModelCapabilities;
  const capabilities: ModelCapabilities = {};
  if (typeof supportsImageToText === 'boolean') {
    capabilities.image_input = supportsImageToText;
  }
  if (typeof supportsToolCalling === 'boolean') {
    capabilities.tool_calling = supportsToolCalling;
  }
  return Object.keys(capabilities).length > 0 ? capabilities : undefined;
}

export interface DefaultPreference {
  /** VS Code model id picked with Select Language Model (remembered). */
  selectedModelId?: string | undefined;
  /** The `defaultModel` setting: an announced id, a family or a VS Code id. */
  configuredDefault?: string | undefined;
}

interface CatalogItem<T> {
  model: T;
  entry: ModelEntry;
}

/** Announced ids for `models`, in order (see the file comment). */
export function assignModelIds<T extends ChatModelInfo>(models: readonly T[]): CatalogItem<T>[] {
  const shared = new Map<string, number>();
  for (const model of models) {
    const key = `${model.vendor}/${model.family}`;
    shared.set(key, (shared.get(key) ?? 0) + 1);
  }
  const taken = new Set<string>();
  const items: CatalogItem<T>[] = [];
  for (const model of models) {
    const key = `${model.vendor}/${model.family}`;
    const id = shared.get(key) === 1 ? key : model.id;
    if (taken.has(id)) {
      // Two models with the same VS Code id (or an id equal to another's
      // vendor/family): the first keeps it, the other cannot be addressed.
      continue;
    }
    taken.add(id);
    const entry: ModelEntry = {
      id,
      vendor: model.vendor,
      family: model.family,
      name: model.name,
      version: model.version,
      max_input_tokens: model.maxInputTokens,
    };
    const capabilities = capabilitiesOf(model);
    if (capabilities) {
      entry.capabilities = capabilities;
    }
    items.push({ model, entry });
  }
  return items;
}

export class ModelCatalog<T extends ChatModelInfo> {
  private items: CatalogItem<T>[] = [];
  private defaultItem: CatalogItem<T> | undefined;

  /** Replaces the model list and recomputes the default. */
  update(models: readonly T[], preference: DefaultPreference = {}): void {
    this.items = assignModelIds(models);
    this.defaultItem =
      this.find((item) => item.model.id === preference.selectedModelId) ??
      this.lookup(preference.configuredDefault) ??
      this.items[0];
  }

  get models(): T[] {
    return this.items.map((item) => item.model);
  }

  get entries(): ModelEntry[] {
    return this.items.map((item) => item.entry);
  }

  get defaultModel(): T | undefined {
    return this.defaultItem?.model;
  }

  get defaultEntry(): ModelEntry | undefined {
    return this.defaultItem?.entry;
  }

  announcement(): Announcement {
    return { models: this.entries, default_model: this.defaultItem?.entry.id ?? null };
  }

  /** The model the responder resolved to `id` (an announced id; a VS Code id also works). */
  resolve(id: string): T | undefined {
    return (this.find((item) => item.entry.id === id) ?? this.find((item) => item.model.id === id))?.model;
  }

  entryOf(model: T): ModelEntry | undefined {
    return this.find((item) => item.model === model)?.entry;
  }

  /** By announced id, then VS Code id, then family. */
  private lookup(name: string | undefined): CatalogItem<T> | undefined {
    if (name === undefined || name === '') {
      return undefined;
    }
    return (
      this.find((item) => item.entry.id === name) ??
      this.find((item) => item.model.id === name) ??
      this.find((item) => item.model.family === name)
    );
  }

  private find(predicate: (item: CatalogItem<T>) => boolean): CatalogItem<T> | undefined {
    return this.items.find(predicate);
  }
}
