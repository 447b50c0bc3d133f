import {ClientRequest, OutgoingMessage} from 'node:http';
import type {Socket} from 'node:net';

/*
Node keeps a request's serialized head (`_header`) and its header map on the ClientRequest for the request's whole life, and got keeps the ClientRequest on every error it makes (`error.request`, `error.response.req`), where `util.inspect(error, {showHidden: true})` finds it. Once the head is on its way, Node reads `_header` only to see that there is one, so the copies can lose the token, and a DPoP proof. Best effort, on Node's and got's internals, each checked before use: where they differ, the copies stay, and sending is never affected.
*/

const redactedProof = '[redacted]';

/**
`text` without the sent authorization header value and proof. The scheme stays, so a printed head still says what kind of credential went.
*/
function redact(text: string, header: string, proof: string | undefined): string {
	const scheme = header.slice(0, Math.max(0, header.indexOf(' ')));
	const withoutHeader = replaceOnce(text, header, `${scheme} [redacted]`);
	return proof === undefined ? withoutHeader : replaceOnce(withoutHeader, proof, redactedProof);
}

// Not `String#replace`: a replacement string would read `$` patterns, and a replacement function costs a call on every request.
function replaceOnce(text: string, search: string, replacement: string): string {
	const at = text.indexOf(search);
	return at === -1 ? text : `${text.slice(0, at)}${replacement}${text.slice(at + search.length)}`;
}

const outHeaders = Object.getOwnPropertySymbols(new OutgoingMessage()).find(symbol => symbol.description === 'kOutHeaders');

type NodeRequestInternals = ClientRequest & {
	_header?: unknown;
	_headerSent?: boolean;
	outputData?: Array<{data: unknown}>;
	[key: symbol]: Record<string, unknown> | undefined;
};

type Http2RequestInternals = {
	isGotHttp2Request?: boolean;
	headersSent?: boolean;
	headers?: Record<string, unknown>;
	stream?: {sentHeaders?: Record<string, unknown>};
	on(event: string, listener: () => void): unknown;
};

function forgetHttp2(request: Http2RequestInternals): void {
	const forget = (): void => {
		if (request.headersSent !== true || request.stream === undefined) {
			return;
		}

		delete request.headers?.authorization;
		delete request.headers?.dpop;
		delete request.stream.sentHeaders?.authorization;
		delete request.stream.sentHeaders?.dpop;
	};

	// got's HTTP/2 request emits `socket` right after its stream has sent the headers.
	request.on('socket', forget);
	request.on('close', forget);
}

function forgetHttp1(request: NodeRequestInternals, header: string, signal: AbortSignal | undefined, proof: string | undefined): void {
	let isHeadForgotten = false;
	// One listener for every event that may come first: each part is done once, and a part that is not there yet waits for the next event.
	const forget = (): void => {
		if (!isHeadForgotten && request._headerSent === true) {
			isHeadForgotten = true;
			if (typeof request._header === 'string') {
				request._header = redact(request._header, header, proof);
			}

			const map = outHeaders === undefined ? undefined : request[outHeaders];
			if (map !== undefined) {
				delete map.authorization;
				delete map.dpop;
			}
		}

		// Failed or aborted before the socket connected: the head still waits in the output queue or in the socket.
		const queued = request.outputData;
		if (queued !== undefined && queued.length > 0) {
			for (const entry of queued) {
				if (typeof entry.data === 'string') {
					entry.data = redact(entry.data, header, proof);
				}
			}
		}

		const socket: (Socket & {_pendingData?: unknown}) | undefined = request.socket ?? undefined;
		if (socket?.destroyed === true && typeof socket._pendingData === 'string') {
			socket._pendingData = redact(socket._pendingData, header, proof);
		}

		if (signal !== undefined && request.destroyed) {
			signal.removeEventListener('abort', forget);
		}
	};

	// `finish`: the head went to the socket. `error` comes before got builds its error for a failed connection; `close` ends every request.
	// `on`, not `once`: the listener is idempotent, and `once` costs a wrapper per listener.
	request.on('finish', forget);
	request.on('error', forget);
	request.on('close', forget);
	// got builds its AbortError at once on abort; this request's `close` comes only after the caller holds the error.
	if (signal !== undefined && !signal.aborted) {
		signal.addEventListener('abort', forget, {once: true});
	}
}

/**
Once `request` has sent `header` as its authorization, and `proof` as its `DPoP` header, wipe the copies of them that Node and got keep.
*/
export function forgetSentHead(request: unknown, header: string, signal: AbortSignal | undefined, proof?: string): void {
	if (request instanceof ClientRequest) {
		forgetHttp1(request as NodeRequestInternals, header, signal, proof);
		return;
	}

	if ((request as Http2RequestInternals | undefined)?.isGotHttp2Request === true) {
		forgetHttp2(request as Http2RequestInternals);
	}
}
