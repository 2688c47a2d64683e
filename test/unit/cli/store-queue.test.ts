import { describe, expect, it } from 'vitest';
import { queuedNotice } from '../../../infra/cli/stores.js';

describe('a message read from a store queue (`recall store inbox --queue-url`)', () => {
  const notice = { noticeId: 'N-1', type: 'store-withdrawal', incidentId: 'INC-1', region: 'tohoku' };

  it('reads the notice itself under raw message delivery, as a store subscription is set up', () => {
    expect(queuedNotice(JSON.stringify(notice))).toEqual({ body: notice });
  });

  it('unwraps the SNS envelope without raw delivery, keeping its subject', () => {
    const envelope = { Type: 'Notification', MessageId: 'm-1', Subject: 'Withdraw CHOC-100', Message: JSON.stringify(notice) };
    expect(queuedNotice(JSON.stringify(envelope))).toEqual({ subject: 'Withdraw CHOC-100', body: notice });
  });

  it('shows anything else as its text', () => {
    expect(queuedNotice('plain words')).toEqual({ body: { text: 'plain words' } });
    expect(queuedNotice(JSON.stringify({ Type: 'Notification', Message: 'a public notice, word for word' }))).toEqual({ body: { text: 'a public notice, word for word' } });
    expect(queuedNotice('[1,2]')).toEqual({ body: { text: '[1,2]' } });
  });
});
