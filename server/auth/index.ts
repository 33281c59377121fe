// server/auth: who a client is (Authenticator), what it may do (Permissions), and the pieces
// they rest on (nkey signatures, password checks, user configuration).
export { Authenticator, UserConnectionCounts } from './authenticator.ts';
export type { AuthOutcome, AuthUser, Credentials, UserLimits } from './authenticator.ts';
export { ConnectionPermissions, Permissions, SubscribeDecision, compilePermissions } from './permissions.ts';
export { newNonce, verifyNonceSignature, isValidUserNkey } from './nkeys.ts';
export { PasswordChecker, secretsEqual } from './passwords.ts';
export { checkUsers, isBcryptHash } from './users.ts';
export type { PermissionsConfig, ResponsePermissionConfig, SubjectPermissionConfig, UserConfig } from './users.ts';
