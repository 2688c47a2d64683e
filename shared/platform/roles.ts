/** The user groups (Cognito groups in AWS, claims in local development tokens). */
export const ROLES = ['agent', 'qa', 'executive', 'store', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Token claim that carries a store user's store id (a Cognito custom attribute). */
export const STORE_ID_CLAIM = 'custom:storeId';
/** Token claim that carries a store user's region. */
export const REGION_CLAIM = 'custom:region';
/** Token claim that carries the groups. */
export const GROUPS_CLAIM = 'cognito:groups';
