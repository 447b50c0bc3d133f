/*
The DPoP challenge in a `WWW-Authenticate` header (RFC 9449 §7.1): `DPoP error="use_dpop_nonce", error_description="…", algs="ES256"`, possibly among other challenges (RFC 9110 §11.6.1).
*/

export type DpopChallenge = {
	/**
	RFC 6750 §3.1 and RFC 9449 §12.2: `invalid_token`, `invalid_dpop_proof`, `use_dpop_nonce`, … Absent when the challenge names no error.
	*/
	readonly error?: string;
	readonly errorDescription?: string;
	/**
	RFC 9449 §7.1: the algorithms the server accepts, space-separated.
	*/
	readonly algs?: string;
};

// A token (RFC 9110 §5.6.2), optionally followed by `=` and a token or a quoted string (§5.6.4). A token alone starts a challenge; what matches nothing (a token68's padding) is skipped.
const item = /(?<name>[\w!#$%\u{26}'*+\-.^`\|~]+)(?:\s*=\s*(?:"(?<quoted>(?:[^"\\]|\\.)*)"|(?<plain>[\w!#$%\u{26}'*+\-.\/^`\|~]+=*)))?/gv;

/**
The DPoP challenge among the challenges of a `WWW-Authenticate` header, or `undefined` when there is none.
*/
export function parseDpopChallenge(header: string | readonly string[] | undefined): DpopChallenge | undefined {
	if (header === undefined) {
		return undefined;
	}

	const text = typeof header === 'string' ? header : header.join(', ');
	let parameters: Record<string, string> | undefined;
	let isDpop = false;
	for (const {groups} of text.matchAll(item)) {
		const {name = '', quoted, plain} = groups ?? {};
		const value = quoted?.replaceAll(/\\(?<escaped>.)/gv, '$<escaped>') ?? plain;
		if (value === undefined) {
			// A new challenge: its scheme. The DPoP challenge ends where the next one starts.
			if (isDpop) {
				break;
			}

			isDpop = name.toLowerCase() === 'dpop';
			parameters = isDpop ? {} : undefined;
		} else if (parameters !== undefined) {
			parameters[name.toLowerCase()] = value;
		}
	}

	return parameters === undefined
		? undefined
		: {
			...(parameters.error !== undefined && {error: parameters.error}),
			...(parameters.error_description !== undefined && {errorDescription: parameters.error_description}),
			...(parameters.algs !== undefined && {algs: parameters.algs}),
		};
}
