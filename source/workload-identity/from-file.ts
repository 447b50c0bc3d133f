import {accessSync, constants, statSync} from 'node:fs';
import {readFile} from 'node:fs/promises';
import {resolve} from 'node:path';
import {isNonEmptyString} from '../checks.js';
import {nameAcrossProcesses} from '../configuration/fingerprint.js';
import {ConfigurationError, describeValue, TokenError} from '../errors.js';

/*
Credentials a platform writes to a file and replaces while the process runs: a projected service account token, a SPIFFE JWT-SVID, a certificate from cert-manager. Read afresh on every call, never kept, so a rotated file is used on the next token request.
*/

/**
The file behind each reader these helpers make, so an error about what it read can name it. Paths are not secret.
*/
const files = new WeakMap<() => Promise<string>, string>();

/**
` (the file /path)` when `value` is a reader made here; for messages.
*/
export function describeFileOf(value: unknown): string {
	const path = typeof value === 'function' ? files.get(value as () => Promise<string>) : undefined;
	return path === undefined ? '' : ` (the file ${path})`;
}

const problems: Record<string, string> = {
	ENOENT: 'it does not exist (ENOENT); check that the volume that holds it is mounted at that path',
	EACCES: 'this process may not read it (EACCES); check the file\'s mode and the user the process runs as',
	EPERM: 'this process may not read it (EPERM); check the file\'s mode and the user the process runs as',
	EISDIR: 'it is a directory (EISDIR), not a file',
};

function readProblem(error: unknown): string {
	// Node.js file system errors carry one.
	const code = String((error as {code?: unknown}).code);
	return problems[code] ?? `it cannot be read (${code})`;
}

/**
Why `path` cannot be read now, or `undefined`.
*/
function openProblem(path: string): string | undefined {
	try {
		accessSync(path, constants.R_OK);
		return statSync(path).isDirectory() ? problems.EISDIR : undefined;
	} catch (error) {
		return readProblem(error);
	}
}

function fileReader(helper: string, path: unknown, writer: string): () => Promise<string> {
	if (!isNonEmptyString(path)) {
		throw new ConfigurationError(`${helper}()`, `takes a file path, got ${describeValue(path)}`);
	}

	const name = `${helper}('${path}')`;
	// Known now, so `oauthHooks()` fails at once rather than the first request.
	const problem = openProblem(path);
	if (problem !== undefined) {
		throw new ConfigurationError(name, `cannot read the file: ${problem}`);
	}

	const read = async (): Promise<string> => {
		let content: string;
		try {
			content = await readFile(path, 'utf8');
		} catch (error) {
			throw new TokenError(`\`${name}\` cannot read the file: ${readProblem(error)}`);
		}

		// A trailing newline is common in files written by hand or by shell, and is never part of a token or a PEM.
		const trimmed = content.trim();
		if (trimmed === '') {
			throw new TokenError(`\`${name}\` read an empty file; check that ${writer} has written it`);
		}

		return trimmed;
	};

	files.set(read, path);
	// Processes reading one path share its tokens' identity (a service account's projected token).
	nameAcrossProcesses(read, `${helper}:${resolve(path)}`);
	return read;
}

/**
A function that reads a token from a file on every call, for `clientAssertion`, `subjectToken`, `actorToken` or `assertion`: a Kubernetes projected service account token, `AZURE_FEDERATED_TOKEN_FILE`, a SPIFFE JWT-SVID written by spiffe-helper. The platform rewrites the file before the token in it expires; reading it for each token request attempt picks up the new one, and nothing keeps the old one.

The content is trimmed of surrounding whitespace. A path that cannot be read now is a `ConfigurationError`; a file that is missing, unreadable or empty at a token request is a `TokenError` that names the path.

@param path - Where the platform writes the token. Relative to the working directory.
*/
export function tokenFromFile(path: string): () => Promise<string> {
	return fileReader('tokenFromFile', path, 'the platform (the token projection, spiffe-helper)');
}

/**
A function that reads a PEM certificate or private key from a file on every call, for `clientCertificate`: a certificate that cert-manager or a SPIFFE helper renews in place is used on the next token request, without a restart.

A path that cannot be read now is a `ConfigurationError`; a file that is missing, unreadable or empty at a token request is a `TokenError` that names the path.

@param path - Where the certificate or key is written: `tls.crt` or `tls.key` of a Kubernetes TLS secret's volume. Relative to the working directory.
*/
export function pemFromFile(path: string): () => Promise<string> {
	return fileReader('pemFromFile', path, 'the certificate manager');
}
