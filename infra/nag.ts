import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Accepts one cdk-nag AwsSolutions finding on one construct, with the reason a reviewer can
 * check. Acknowledge at the narrowest construct and finding id; every other finding fails
 * synthesis. `test/infra` asserts that every acknowledgement carries a written reason.
 */
export function acceptFinding(scope: IConstruct, rule: string, reason: string): void {
  Validations.of(scope).acknowledge({ id: `AwsSolutions::AwsSolutions-${rule}`, reason });
}
