/**
 * The HS256 JWT_SECRET of test gateways and stream services. Tests run them as production
 * processes (RETEN_ENV unset), which refuse the published development secret; every test
 * fixture and process of one test uses this one, so a token issued by one is accepted by all.
 */
export const TEST_JWT_SECRET = 'reten-test-jwt-secret-not-for-production';
