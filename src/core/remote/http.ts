import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';

/**
 * A small, bounded HTTP client for the Hub: every request has a timeout, bodies are read up to a limit,
 * redirects are followed by hand (at most MAX_REDIRECTS) and the Authorization header goes only to the
 * origin it was meant for. huggingface_hub sends its requests through httpx with follow_redirects=True,
 * and httpx drops Authorization when a redirect leaves the origin (the LFS redirect to the CDN host);
 * `_httpx_follow_relative_redirects_with_backoff` (utils/_http.py) follows relative redirects (a renamed
 * repository) on the same host. We do the same, so a token never reaches a CDN or a host a redirect names.
 *
 * Responses are never decompressed (`Accept-Encoding: identity`, as get_hf_file_metadata sets it), so the
 * byte counts and Content-Length are those of the file.
 */

export const MAX_REDIRECTS = 5;

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    message: string,
    /** The HTTP status, when a response arrived. */
    readonly status?: number,
    /** The Hub's X-Error-Code header (GatedRepo, RepoNotFound, RevisionNotFound, EntryNotFound). */
    readonly errorCode?: string,
  ) {
    super(message);
  }
}

/** The scan's deadline passed (the signal's reason): what was not read is unavailable, not altered. */
export class DeadlineError extends HttpError {
  override name = 'DeadlineError';
}

export interface HttpOptions {
  method?: 'GET' | 'POST' | 'HEAD';
  headers?: Record<string, string>;
  body?: string;
  /** Origin (scheme://host:port) the Authorization header may be sent to; other origins never see it. */
  authOrigin?: string;
  /** Inactivity timeout of one request (no answer, or a body that stalls), in ms. */
  timeoutMs?: number;
  /**
   * Ends the request, and a body still streaming, when it aborts (its reason is the error): the whole-scan
   * deadline, which the per-request timeout cannot give (a server dribbling a byte every few seconds never
   * stays silent long enough to time out).
   */
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The final URL, after redirects. */
  url: string;
  /** Headers of the first response in the chain (the Hub's, before any redirect to a CDN). */
  firstHeaders: IncomingHttpHeaders;
  body: AsyncIterable<Buffer>;
  /** Ends the response early (what was not read is not downloaded further). */
  abort(): void;
}

/** Counts what the client receives, per scan: the bytes a remote judgement cost. */
export class Traffic {
  bytes = 0;
  requests = 0;
}

/**
 * Sends a request and follows redirects (301, 302, 303, 307, 308) to a final response, which is returned
 * unread whatever its status. Authorization is removed as soon as the chain leaves `authOrigin`, and stays
 * removed (a redirect back does not restore it).
 */
export async function send(url: string, opts: HttpOptions, traffic: Traffic): Promise<HttpResponse> {
  let current = new URL(url);
  let headers = { ...(opts.headers ?? {}) };
  let method = opts.method ?? 'GET';
  let body = opts.body;
  let firstHeaders: IncomingHttpHeaders | undefined;
  for (let hop = 0; ; hop++) {
    if (current.origin !== opts.authOrigin) headers = withoutAuthorization(headers);
    const res = await once(current, method, headers, body, opts.timeoutMs ?? 30_000, traffic, opts.signal);
    firstHeaders ??= res.headers;
    const status = res.statusCode ?? 0;
    const location = res.headers.location;
    if ([301, 302, 303, 307, 308].includes(status) && location) {
      // Discard the redirect's body (counted: it is traffic too).
      res.on('data', (c: Buffer) => {
        traffic.bytes += c.length;
      });
      res.resume();
      if (hop >= MAX_REDIRECTS)
        throw new HttpError(`more than ${MAX_REDIRECTS} redirects from ${url}`, status);
      let next: URL;
      try {
        next = new URL(location, current);
      } catch {
        throw new HttpError(`redirect to an invalid location '${location.slice(0, 200)}'`, status);
      }
      if (next.protocol !== 'https:' && next.protocol !== 'http:')
        throw new HttpError(`redirect to a ${next.protocol} URL refused`, status);
      if (current.protocol === 'https:' && next.protocol === 'http:')
        throw new HttpError(`redirect from https to plain http (${next.host}) refused`, status);
      if (status === 303) {
        method = 'GET';
        body = undefined;
      }
      current = next;
      continue;
    }
    return {
      status,
      headers: res.headers,
      firstHeaders,
      url: current.toString(),
      body: counted(res, traffic),
      abort: () => res.destroy(),
    };
  }
}

/** Reads a whole (small) body, failing past `maxBytes` or when it is shorter than its Content-Length. */
export async function readAll(res: HttpResponse, maxBytes: number): Promise<Buffer> {
  const declared = contentLength(res.headers);
  if (declared !== undefined && declared > maxBytes) {
    res.abort();
    throw new HttpError(`response of ${declared} bytes is above the limit of ${maxBytes}`, res.status);
  }
  const parts: Buffer[] = [];
  let got = 0;
  for await (const chunk of res.body) {
    got += chunk.length;
    if (got > maxBytes) {
      res.abort();
      throw new HttpError(`response is larger than the limit of ${maxBytes} bytes`, res.status);
    }
    parts.push(chunk);
  }
  const data = Buffer.concat(parts);
  if (declared !== undefined && data.length !== declared)
    throw new HttpError(`truncated response: ${data.length} of ${declared} bytes`, res.status);
  return data;
}

export function contentLength(h: IncomingHttpHeaders): number | undefined {
  const v = h['content-length'];
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

export function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

function withoutAuthorization(h: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(h)) if (k.toLowerCase() !== 'authorization') out[k] = v;
  return out;
}

function once(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  timeoutMs: number,
  traffic: Traffic,
  signal: AbortSignal | undefined,
): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    // Loaded on first use: node:http and node:https take about 4 ms to load, at every start of the CLI
    // otherwise, and only remote scans use them (src/core/lazy.ts).
    const fn =
      url.protocol === 'https:'
        ? process.getBuiltinModule('node:https').request
        : url.protocol === 'http:'
          ? process.getBuiltinModule('node:http').request
          : undefined;
    if (!fn) {
      reject(new HttpError(`unsupported URL scheme ${url.protocol}`));
      return;
    }
    if (signal?.aborted) {
      reject(abortError(signal));
      return;
    }
    traffic.requests++;
    const req = fn(url, {
      method,
      headers: {
        'accept-encoding': 'identity',
        'user-agent': 'modelgate',
        ...headers,
        ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
      },
      timeout: timeoutMs,
    });
    req.on('timeout', () => req.destroy(new HttpError(`no answer from ${url.host} within ${timeoutMs} ms`)));
    req.on('error', (err) =>
      reject(
        err instanceof HttpError ? err : new HttpError(`connection to ${url.host} failed: ${err.message}`),
      ),
    );
    // The deadline ends the request before its answer and the body after it, whichever is under way.
    let response: IncomingMessage | undefined;
    const onAbort = () => {
      const err = abortError(signal!);
      if (response) response.destroy(err);
      else req.destroy(err);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    req.on('close', () => {
      if (!response) signal?.removeEventListener('abort', onAbort);
    });
    req.on('response', (res) => {
      response = res;
      res.on('close', () => signal?.removeEventListener('abort', onAbort));
      // The socket timeout keeps applying while the body streams: a stalled body fails too.
      res.on('aborted', () => res.destroy(new HttpError(`connection to ${url.host} closed mid-body`)));
      resolve(res);
    });
    req.end(body);
  });
}

function abortError(signal: AbortSignal): HttpError {
  const r: unknown = signal.reason;
  return r instanceof HttpError ? r : new HttpError(r instanceof Error ? r.message : 'request aborted');
}

async function* counted(res: IncomingMessage, traffic: Traffic): AsyncIterable<Buffer> {
  try {
    for await (const chunk of res) {
      traffic.bytes += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
  } catch (err) {
    throw err instanceof HttpError
      ? err
      : new HttpError(`reading the response failed: ${(err as Error).message}`);
  }
  if (!res.complete) throw new HttpError('the connection closed before the response was complete');
}
