/**
A request body the caller gave as a value, which can be turned into the same bytes again: what a 401 retry may send a second time. A stream or an (async) iterable is consumed by the first send, and a `Request`'s own body cannot be told apart from one, so neither is replayed.
*/
export function isReplayableBody(body: unknown): boolean {
	return typeof body === 'string'
		|| body instanceof URLSearchParams
		|| body instanceof FormData
		|| body instanceof Blob
		|| body instanceof ArrayBuffer
		|| ArrayBuffer.isView(body);
}
