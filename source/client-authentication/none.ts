import type {ClientAuthenticationMethod} from './method.js';

/**
RFC 6749 §2.3: a public client names itself and proves nothing.
*/
export const none = {
	name: 'none',
	credential: 'none',
	prepare: ({clientId}) => async ({form}) => {
		form.set('client_id', clientId);
	},
} as const satisfies ClientAuthenticationMethod;
