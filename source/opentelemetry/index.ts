export {instrumentOAuth, type InstrumentOAuthOptions} from './instrument.js';
export {metricNames, attributeNames, tokenRequestSpanName, instrumentationScope} from './names.js';
