/** A store in the company's directory: where notices go and who must acknowledge them. */
export interface Store {
  readonly storeId: string;
  readonly region: string;
  readonly name: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
}
