/**
 * protocol: the frames of pipe protocol version 1 (DESIGN.md, "The pipe
 * protocol"), as TypeScript types. Types only: no runtime code, no `vscode`.
 *
 * Direction is from this extension's point of view: Outbound frames are sent
 * to the responder (litellm-fcgi), Inbound frames are received from it.
 */

export const PROTOCOL_VERSION = 1;

/** Longest line either side may send, newline excluded (16 MiB). */
export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** One model as announced to the responder. */
export interface ModelEntry {
  /** `vendor/family`, or the VS Code model id when several models share it. */
  id: string;
  vendor: string;
  family: string;
  name: string;
  version: string;
  max_input_tokens: number;
  /**
   * What the model accepts, when this VS Code reports it (the run-time
   * `LanguageModelChat.capabilities`); left out otherwise. The responder
   * refuses image parts for a model whose `image_input` is false.
   */
  capabilities?: ModelCapabilities;
}

/** Each field only when VS Code reported it as a boolean. */
export interface ModelCapabilities {
  image_input?: boolean;
  tool_calling?: boolean;
}

/** What a window offers: sent in `hello` and again in `models`. */
export interface Announcement {
  models: ModelEntry[];
  default_model: string | null;
}

export type ErrorCode = 'no_permissions' | 'not_found' | 'rate_limited' | 'cancelled' | 'internal';

export type FinishReason = 'stop' | 'tool_calls' | 'length';

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
}

export type HelloFrame = {
  type: 'hello';
  protocol: number;
  client: string;
  vscode: string;
} & Announcement;

export type ModelsFrame = { type: 'models' } & Announcement;

export interface DeltaFrame {
  type: 'delta';
  id: string;
  text: string;
}

export interface ToolCallFrame {
  type: 'tool_call';
  id: string;
  call_id: string;
  name: string;
  /** The call's input as JSON text. */
  arguments: string;
}

export interface DoneFrame {
  type: 'done';
  id: string;
  finish_reason: FinishReason;
  usage: Usage;
}

/** A request's failure (`id` set) or, without `id`, a connection-level one. */
export interface ErrorFrame {
  type: 'error';
  id?: string;
  code: ErrorCode | 'protocol';
  message: string;
}

export interface PingFrame {
  type: 'ping';
}

export interface PongFrame {
  type: 'pong';
}

export type OutboundFrame =
  | HelloFrame
  | ModelsFrame
  | DeltaFrame
  | ToolCallFrame
  | DoneFrame
  | ErrorFrame
  | PingFrame
  | PongFrame;

/** The frames a request produces (what modelCalls sends). */
export type ReplyFrame = DeltaFrame | ToolCallFrame | DoneFrame | ErrorFrame;

// ---- OpenAI shapes carried by `request` (as the responder validated them) ----

export interface OpenAiTextPart {
  type: 'text';
  text: string;
}

/**
 * Any content part: `text` (and `refusal` on assistant messages) becomes
 * text; `image_url` (a `data:` URL, the only kind the responder lets
 * through) an image data part when VS Code has LanguageModelDataPart.
 */
export interface OpenAiContentPart {
  type: string;
  text?: string;
  refusal?: string;
  [key: string]: unknown;
}

export interface OpenAiToolCall {
  id: string;
  type?: string;
  function: { name: string; arguments?: string };
}

export interface OpenAiMessage {
  role: string;
  content?: string | OpenAiContentPart[] | null;
  name?: string;
  tool_calls?: OpenAiToolCall[];
  tool_call_id?: string;
}

export interface OpenAiTool {
  type: string;
  function?: { name: string; description?: string; parameters?: object; strict?: boolean };
}

export type OpenAiToolChoice =
  | 'none'
  | 'auto'
  | 'required'
  | { type: string; function?: { name: string } };

export interface RequestFrame {
  type: 'request';
  id: string;
  model: string;
  messages: OpenAiMessage[];
  tools?: OpenAiTool[];
  tool_choice?: OpenAiToolChoice;
  options?: Record<string, unknown>;
}

export interface WelcomeFrame {
  type: 'welcome';
  protocol: number;
  server?: string;
}

/**
 * Sent to each window once after welcome and whenever the server's state
 * changes: `health` is the status document, GET /health's body
 * (tests/spec/status.schema.json). serverStatus.ts reads it.
 */
export interface StatusFrame {
  type: 'status';
  health: Record<string, unknown>;
}

export interface CancelFrame {
  type: 'cancel';
  id: string;
}

/** A decoded line: an object with a `type`; unknown types are ignored. */
export interface InboundFrame {
  type: string;
  [key: string]: unknown;
}
