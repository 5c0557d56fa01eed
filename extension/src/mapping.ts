/**
 * mapping: OpenAI chat shapes <-> vscode.lm parts. Pure functions.
 *
 * The `vscode` module is used for types only; the classes and enums come in
 * through an LmApi value (the real `vscode` namespace in the extension, a
 * stand-in in unit tests and plain-Node integration tests), so this file
 * runs without an editor.
 *
 * Role mapping (the stable vscode.lm API has only User and Assistant):
 * - the leading run of system/developer messages becomes one leading User
 *   message, their texts joined in order by a blank line; a system/developer
 *   message later in the conversation becomes a User message in place;
 * - user -> User: text parts, and image_url parts (base64 `data:` URLs, the
 *   only kind the responder lets through) as LanguageModelDataPart.image
 *   when the running VS Code has that class (feature-detected: LmApi's
 *   optional member); without it they are skipped, with a note;
 * - assistant -> Assistant: text (and refusal) parts, then one
 *   LanguageModelToolCallPart per tool_calls entry;
 * - tool -> LanguageModelToolResultPart in a User message; consecutive tool
 *   messages (parallel tool calls) share one User message;
 * - `name` is kept on the message (for a merged tool message: when all its
 *   tool messages carry the same name).
 */
import type * as vscode from 'vscode';

import type {
  DeltaFrame,
  ErrorCode,
  ErrorFrame,
  OpenAiContentPart,
  OpenAiMessage,
  OpenAiTool,
  OpenAiToolChoice,
  ToolCallFrame,
} from './protocol';

/** The runtime values of `vscode` this code needs. */
export interface LmApi {
  LanguageModelChatMessage: typeof vscode.LanguageModelChatMessage;
  LanguageModelTextPart: typeof vscode.LanguageModelTextPart;
  LanguageModelToolCallPart: typeof vscode.LanguageModelToolCallPart;
  LanguageModelToolResultPart: typeof vscode.LanguageModelToolResultPart;
  LanguageModelChatToolMode: typeof vscode.LanguageModelChatToolMode;
  CancellationTokenSource: typeof vscode.CancellationTokenSource;
  /**
   * vscode.LanguageModelDataPart where the running VS Code has it (newer
   * VS Code; not in 1.95, nor in @types/vscode 1.95, hence the structural
   * type): image parts need it, and are skipped without it.
   */
  LanguageModelDataPart?: LanguageModelDataPartApi | undefined;
}

/** The static side of vscode.LanguageModelDataPart that mapping uses. */
export interface LanguageModelDataPartApi {
  image(data: Uint8Array, mime: string): object;
}

/** A request the responder should not have let through (reported as `internal`). */
export class MappingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MappingError';
  }
}

export interface MappedMessages {
  messages: vscode.LanguageModelChatMessage[];
  /** What could not be carried over (logged at debug; never message text). */
  notes: string[];
  /** How many image parts became LanguageModelDataParts. */
  images: number;
}

type UserPart = vscode.LanguageModelTextPart | vscode.LanguageModelToolResultPart;
/** A LanguageModelDataPart: opaque here (not in @types/vscode 1.95). */
type DataPart = object;
type AssistantPart = vscode.LanguageModelTextPart | vscode.LanguageModelToolCallPart;

export function toChatMessages(api: LmApi, input: readonly OpenAiMessage[]): MappedMessages {
  const messages: vscode.LanguageModelChatMessage[] = [];
  const notes: string[] = [];
  let images = 0;
  let index = 0;

  // The leading run of instructions: one User message.
  const instructions: string[] = [];
  while (index < input.length && isInstruction(input[index])) {
    instructions.push(textOf(input[index] as OpenAiMessage, index, notes));
    index++;
  }
  if (instructions.length > 0) {
    messages.push(api.LanguageModelChatMessage.User(instructions.join('\n\n')));
  }

  while (index < input.length) {
    const message = input[index] as OpenAiMessage;
    switch (message.role) {
      case 'system':
      case 'developer':
      case 'user': {
        const content = userParts(api, message, index, notes);
        if (typeof content !== 'string') {
          // userParts makes text parts and image data parts only.
          images += content.filter((part) => !(part instanceof api.LanguageModelTextPart)).length;
        }
        messages.push(api.LanguageModelChatMessage.User(content, nameOf(message)));
        index++;
        break;
      }
      case 'assistant': {
        messages.push(
          api.LanguageModelChatMessage.Assistant(assistantParts(api, message, index, notes), nameOf(message)),
        );
        index++;
        break;
      }
      case 'tool': {
        const results: UserPart[] = [];
        const names = new Set<string | undefined>();
        while (index < input.length && (input[index] as OpenAiMessage).role === 'tool') {
          const tool = input[index] as OpenAiMessage;
          if (typeof tool.tool_call_id !== 'string' || tool.tool_call_id === '') {
            throw new MappingError(`messages[${index}]: a tool message needs a tool_call_id`);
          }
          const text = textOf(tool, index, notes);
          results.push(new api.LanguageModelToolResultPart(tool.tool_call_id, [new api.LanguageModelTextPart(text)]));
          names.add(nameOf(tool));
          index++;
        }
        const [onlyName] = names;
        messages.push(api.LanguageModelChatMessage.User(results, names.size === 1 ? onlyName : undefined));
        break;
      }
      default:
        throw new MappingError(`messages[${index}]: unsupported role ${JSON.stringify(message.role)}`);
    }
  }
  return { messages, notes, images };
}

function isInstruction(message: OpenAiMessage | undefined): boolean {
  return message?.role === 'system' || message?.role === 'developer';
}

function nameOf(message: OpenAiMessage): string | undefined {
  return typeof message.name === 'string' && message.name !== '' ? message.name : undefined;
}

/** The text of a message: a string, or its text parts concatenated. */
function textOf(message: OpenAiMessage, index: number, notes: string[]): string {
  const content = message.content;
  if (content === undefined || content === null) {
    return '';
  }
  if (typeof content === 'string') {
    return content;
  }
  return content
    .map((part, partIndex) => partText(part, message.role, index, partIndex, notes))
    .filter((text): text is string => text !== undefined)
    .join('');
}

/** Text of one content part, or undefined (with a note) for parts without text. */
function partText(
  part: OpenAiContentPart,
  role: string,
  index: number,
  partIndex: number,
  notes: string[],
): string | undefined {
  if (part.type === 'text' && typeof part.text === 'string') {
    return part.text;
  }
  if (role === 'assistant' && part.type === 'refusal' && typeof part.refusal === 'string') {
    return part.refusal;
  }
  notes.push(`messages[${index}].content[${partIndex}]: ${part.type} part skipped (not supported by vscode.lm)`);
  return undefined;
}

function userParts(api: LmApi, message: OpenAiMessage, index: number, notes: string[]): string | UserPart[] {
  const content = message.content;
  if (content === undefined || content === null || typeof content === 'string') {
    return content ?? '';
  }
  const parts: (UserPart | DataPart)[] = [];
  content.forEach((part, partIndex) => {
    if (part.type === 'image_url') {
      const image = imagePart(api, part, `messages[${index}].content[${partIndex}]`, notes);
      if (image !== undefined) {
        parts.push(image);
      }
      return;
    }
    const text = partText(part, message.role, index, partIndex, notes);
    if (text !== undefined) {
      parts.push(new api.LanguageModelTextPart(text));
    }
  });
  // VS Code versions with LanguageModelDataPart accept it in User messages;
  // @types/vscode 1.95 does not know the class.
  return parts.length > 0 ? (parts as UserPart[]) : '';
}

/**
 * An image_url part as LanguageModelDataPart.image(bytes, mimeType), or
 * undefined (with a note) when this VS Code has no LanguageModelDataPart.
 * The `detail` field has no vscode.lm counterpart and is ignored.
 */
function imagePart(api: LmApi, part: OpenAiContentPart, where: string, notes: string[]): DataPart | undefined {
  const dataPart = api.LanguageModelDataPart;
  if (typeof dataPart?.image !== 'function') {
    notes.push(`${where}: image_url part skipped (this VS Code has no LanguageModelDataPart)`);
    return undefined;
  }
  const imageUrl = part.image_url;
  const url =
    typeof imageUrl === 'object' && imageUrl !== null ? (imageUrl as { url?: unknown }).url : undefined;
  if (typeof url !== 'string') {
    throw new MappingError(`${where}.image_url.url is not a string`);
  }
  const image = decodeImageDataUrl(url);
  if (typeof image === 'string') {
    throw new MappingError(`${where}.image_url.url: ${image}`);
  }
  return dataPart.image(image.data, image.mimeType);
}

export interface DecodedImage {
  mimeType: string;
  data: Uint8Array;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

/**
 * `data:image/<type>[;param...];base64,<payload>` as its media type
 * (lower-cased, parameters dropped) and bytes; otherwise the reason it is
 * not one, as a string. Whitespace in the payload is ignored; the payload
 * must be base64 (standard or URL-safe alphabet, padding optional).
 */
export function decodeImageDataUrl(url: string): DecodedImage | string {
  const comma = url.indexOf(',');
  if (!/^data:/i.test(url) || comma === -1) {
    return 'not a data: URL';
  }
  const [mediaType = '', ...params] = url.slice('data:'.length, comma).split(';');
  const mimeType = mediaType.trim().toLowerCase();
  if (!/^image\/[a-z0-9][a-z0-9.+-]*$/.test(mimeType)) {
    return `not an image media type: ${JSON.stringify(mimeType.slice(0, 64))}`;
  }
  if (params.at(-1)?.trim().toLowerCase() !== 'base64') {
    return 'only base64 data: URLs are supported';
  }
  const payload = url.slice(comma + 1).replace(/[\t\n\f\r ]+/g, '');
  if (payload === '' || payload.replace(/=+$/, '').length % 4 === 1 || !(BASE64.test(payload) || BASE64URL.test(payload))) {
    return 'the image data is not valid base64';
  }
  // A copy, not a view into Buffer's shared pool.
  return { mimeType, data: new Uint8Array(Buffer.from(payload, 'base64')) };
}

function assistantParts(api: LmApi, message: OpenAiMessage, index: number, notes: string[]): string | AssistantPart[] {
  const text = textOf(message, index, notes);
  const calls = message.tool_calls ?? [];
  if (calls.length === 0) {
    return text;
  }
  const parts: AssistantPart[] = [];
  if (text !== '') {
    parts.push(new api.LanguageModelTextPart(text));
  }
  calls.forEach((call, callIndex) => {
    const where = `messages[${index}].tool_calls[${callIndex}]`;
    parts.push(new api.LanguageModelToolCallPart(call.id, call.function.name, parseArguments(call.function.arguments, where)));
  });
  return parts;
}

/** Tool-call arguments (JSON text) as the object vscode.lm expects; "" means {}. */
function parseArguments(text: string | undefined, where: string): object {
  if (text === undefined || text.trim() === '') {
    return {};
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new MappingError(`${where}.function.arguments is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MappingError(`${where}.function.arguments is not a JSON object`);
  }
  return value;
}

// ---- request options ----

export interface RequestShape {
  tools?: readonly OpenAiTool[] | undefined;
  tool_choice?: OpenAiToolChoice | undefined;
  options?: Record<string, unknown> | undefined;
}

/**
 * tools -> LanguageModelChatTool[]; tool_choice "none" -> no tools,
 * "auto" -> Auto, "required" -> Required, a named function -> that tool
 * alone with Required; sampling options -> modelOptions, unchanged.
 */
export function toRequestOptions(api: LmApi, request: RequestShape): vscode.LanguageModelChatRequestOptions {
  const options: vscode.LanguageModelChatRequestOptions = {};
  let tools = (request.tools ?? []).flatMap((tool): vscode.LanguageModelChatTool[] => {
    if (tool.type !== 'function' || !tool.function) {
      return [];
    }
    const mapped: vscode.LanguageModelChatTool = {
      name: tool.function.name,
      description: tool.function.description ?? '',
    };
    if (tool.function.parameters !== undefined) {
      mapped.inputSchema = tool.function.parameters;
    }
    return [mapped];
  });

  const choice = request.tool_choice;
  let mode: vscode.LanguageModelChatToolMode | undefined;
  if (choice === 'none') {
    tools = [];
  } else if (choice === 'required') {
    mode = api.LanguageModelChatToolMode.Required;
  } else if (typeof choice === 'object') {
    const wanted = choice.function?.name;
    const picked = tools.filter((tool) => tool.name === wanted);
    if (picked.length === 0) {
      throw new MappingError(`tool_choice names ${JSON.stringify(wanted)}, which is not among the tools`);
    }
    tools = picked;
    mode = api.LanguageModelChatToolMode.Required;
  } else {
    mode = api.LanguageModelChatToolMode.Auto;
  }
  if (tools.length > 0) {
    options.tools = tools;
    if (mode !== undefined) {
      options.toolMode = mode;
    }
  }

  if (request.options && Object.keys(request.options).length > 0) {
    options.modelOptions = { ...request.options };
  }
  return options;
}

// ---- response parts -> frames ----

/**
 * One part of response.stream as a frame: LanguageModelTextPart -> delta,
 * LanguageModelToolCallPart -> tool_call, anything else (future part types,
 * such as data or thinking parts) -> undefined, to be skipped. Classes are
 * recognised with instanceof only: a thinking part also has a string
 * `value`, and must not leak into the answer.
 */
export function partToFrame(
  api: LmApi,
  id: string,
  part: unknown,
  newCallId: () => string,
): DeltaFrame | ToolCallFrame | undefined {
  if (part instanceof api.LanguageModelTextPart) {
    return part.value === '' ? undefined : { type: 'delta', id, text: part.value };
  }
  if (part instanceof api.LanguageModelToolCallPart) {
    return {
      type: 'tool_call',
      id,
      call_id: part.callId !== '' ? part.callId : newCallId(),
      name: part.name,
      arguments: JSON.stringify(part.input),
    };
  }
  return undefined;
}

// ---- errors -> error frames ----

/** An error this extension raises itself with a known frame code. */
export class CodedError extends Error {
  constructor(
    readonly frameCode: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CodedError';
  }
}

export const GRANT_ACCESS_HINT =
  'In VS Code, run "VSCode LiteLLM: Select Language Model" (or "Start LM Proxy Server") and allow ' +
  'access when asked; access can also be managed from the Accounts menu ("Manage Language Model Access").';

/**
 * A failed model call as an error frame. LanguageModelError codes:
 * NoPermissions -> no_permissions, Blocked -> rate_limited, NotFound ->
 * not_found; a request we cancelled -> cancelled; anything else (including
 * a provider's own error, which reaches us as a plain Error) -> internal with
 * the cause's message.
 */
export function errorToFrame(id: string, err: unknown, cancelledByUs: boolean): ErrorFrame {
  if (err instanceof CodedError) {
    return { type: 'error', id, code: err.frameCode, message: err.message };
  }
  if (cancelledByUs) {
    return { type: 'error', id, code: 'cancelled', message: 'request cancelled' };
  }
  const message = err instanceof Error ? err.message : String(err);
  const code = languageModelErrorCode(err);
  if (code === 'NoPermissions') {
    return {
      type: 'error',
      id,
      code: 'no_permissions',
      message: `VS Code does not allow this extension to use the model (${message}). ${GRANT_ACCESS_HINT}`,
    };
  }
  if (code === 'Blocked') {
    return { type: 'error', id, code: 'rate_limited', message: `the model provider blocked the request: ${message}` };
  }
  if (code === 'NotFound') {
    return { type: 'error', id, code: 'not_found', message: `the model is no longer available: ${message}` };
  }
  if (err instanceof Error && err.name === 'Canceled') {
    return {
      type: 'error',
      id,
      code: 'internal',
      message: 'VS Code cancelled the request (the model may have been removed)',
    };
  }
  return { type: 'error', id, code: 'internal', message: causeMessage(err) };
}

/** `code` of a vscode.LanguageModelError (or anything shaped like one). */
function languageModelErrorCode(err: unknown): string | undefined {
  if (!(err instanceof Error)) {
    return undefined;
  }
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

/** The innermost cause's message: LanguageModelError 'Unknown' wraps the real error. */
function causeMessage(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 5; depth++) {
    const cause = current instanceof Error ? (current as { cause?: unknown }).cause : undefined;
    if (cause === undefined || cause === null) {
      break;
    }
    current = cause;
  }
  if (current instanceof Error) {
    return current.message !== '' ? current.message : current.name;
  }
  return String(current);
}
