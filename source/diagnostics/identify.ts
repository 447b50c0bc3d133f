import {createHash} from 'node:crypto';

/*
How events name a token source and a token without showing either's secrets.
*/

/**
Which token source an event is about: the client and grant of a source made from a configuration. Both are `undefined` for a `TokenSource` built around your own `fetchToken`.
*/
export type SourceLabels = {
	readonly clientId: string | undefined;
	/**
	`grant_type` as configured, or `custom` for a function.
	*/
	readonly grantType: string | undefined;
};

const unlabeled: SourceLabels = Object.freeze({clientId: undefined, grantType: undefined});

/**
Kept beside the sources rather than in them, so `TokenSource` stays configuration-free and its options unchanged.
*/
const labels = new WeakMap<WeakKey, SourceLabels>();

export function labelSource(source: WeakKey, sourceLabels: SourceLabels): void {
	labels.set(source, Object.freeze({clientId: sourceLabels.clientId, grantType: sourceLabels.grantType}));
}

export function labelsOf(source: WeakKey): SourceLabels {
	return labels.get(source) ?? unlabeled;
}

/**
A token told apart from others, not shown: the first 8 hex characters of its SHA-256. Enough to see that two events are about the same token, far too little to use or guess one.
*/
export function tokenFingerprint(token: string): string {
	return createHash('sha256').update(token).digest('hex').slice(0, 8);
}

/**
A URL as events show it: origin and path, never a query, which may carry a credential.
*/
export function withoutQuery(url: URL): string {
	return `${url.origin}${url.pathname}`;
}
