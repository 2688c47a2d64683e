import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../../shared/platform/config.js';

describe('configuration', () => {
  it('returns the named variables when they are valid', () => {
    const config = loadConfig(['TABLE_NAME', 'INCIDENT_ALERTS_TOPIC_ARN'], {
      TABLE_NAME: 'recall',
      INCIDENT_ALERTS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:incident-alerts',
    });
    expect(config.TABLE_NAME).toBe('recall');
  });

  it('fails fast naming every missing and every invalid variable', () => {
    let caught: unknown;
    try {
      loadConfig(['TABLE_NAME', 'STORE_NOTICES_TOPIC_ARN'], { STORE_NOTICES_TOPIC_ARN: 'store-notices' });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^TABLE_NAME is not set/);
    expect(problems[1]).toMatch(/^STORE_NOTICES_TOPIC_ARN="store-notices": must be an SNS topic ARN/);
  });
});
