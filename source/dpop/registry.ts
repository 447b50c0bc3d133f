import type {TokenSource} from '../token-source/token-source.js';
import type {DpopSettings} from './options.js';

/*
Which token sources get DPoP-bound tokens: the hooks learn it from the source they are given, whether they made it from a configuration or were handed one `createTokenSource()` made. A source built any other way gets bearer tokens, and the hooks stay on the bearer path.
*/

const dpopSources = new WeakMap<TokenSource, DpopSettings>();

export function registerDpopSource(source: TokenSource, settings: DpopSettings): void {
	dpopSources.set(source, settings);
}

export function dpopSettingsOf(source: TokenSource): DpopSettings | undefined {
	return dpopSources.get(source);
}
