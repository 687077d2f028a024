import { describe, it, expect } from 'vitest';
import { loadRoutes, parseRoutes } from '../../src/config/routes.ts';
import { ConfigError } from '../../src/core/errors.ts';

const ENV = {
  JX_DINGTALK_TOKEN: 'prov-token',
  JX_DINGTALK_SECRET: 'SECprov',
  YUDU_DINGTALK_TOKEN: 'yudu token/+',
  YUDU_DINGTALK_SECRET: 'SECyudu',
};

function errorOf(text: string, env = {}): ConfigError {
  try {
    parseRoutes(text, 'routes.yaml', env);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('no error');
}

const office = (channel: string) => `offices:
  - id: yudu-county
    name: 于都县市场监督管理局
    region: '360731'
    channels:
      ${channel}
`;

describe('rules/routes.yaml', () => {
  it('loads the bundled file: province desk, cities, counties, escalation policy', () => {
    const r = loadRoutes('rules/routes.yaml', ENV);
    expect(r.offices.find((o) => o.region === '360000')?.name).toBe('江西省市场监督管理局值班室');
    expect(r.offices.filter((o) => /^\d{4}00$/.test(o.region) && !o.region.endsWith('0000')).length).toBeGreaterThanOrEqual(2);
    expect(r.offices.filter((o) => !o.region.endsWith('00')).length).toBeGreaterThanOrEqual(4);
    expect(r.escalation).toEqual({ afterMinutes: { 红: 15, 橙: 60, 黄: 240 }, maxSteps: 3 });
  });

  it('resolves ${ENV} placeholders (URL-encoded) and secretEnv from the environment', () => {
    const r = loadRoutes('rules/routes.yaml', ENV);
    const yudu = r.offices.find((o) => o.id === 'yudu-county')!.channels[0]!;
    expect(yudu).toMatchObject({
      kind: 'dingtalk',
      name: 'yudu-county/dingtalk',
      url: 'https://oapi.dingtalk.com/robot/send?access_token=yudu%20token%2F%2B',
      secret: 'SECyudu',
      enabled: true,
    });
  });

  it('disables channels whose variables are unset, with a warning naming the variable only', () => {
    const r = loadRoutes('rules/routes.yaml', {});
    expect(r.offices.every((o) => o.channels.every((c) => !c.enabled || c.kind === 'webhook'))).toBe(true);
    const w = r.warnings.find((x) => x.includes('yudu-county/dingtalk'))!;
    expect(w).toContain('YUDU_DINGTALK_TOKEN');
    expect(w).toContain('YUDU_DINGTALK_SECRET');
    const withEnv = loadRoutes('rules/routes.yaml', ENV);
    expect(withEnv.warnings.join('\n')).not.toContain('SECyudu');
  });
});

describe('routes validation errors name file, line and field', () => {
  it('an unknown channel kind', () => {
    const e = errorOf(office(`- slack: { url: 'https://hooks.slack.com/x' }`));
    expect(e.message).toBe(`routes.yaml:6: offices[0].channels[0].slack: unknown channel kind 'slack': expected one of webhook, dingtalk, wecom, feishu`);
  });

  it('a missing option', () => {
    const e = errorOf(office(`- dingtalk: { secretEnv: YUDU_SECRET }`));
    expect(e.field).toBe('offices[0].channels[0].dingtalk.url');
    expect(e.line).toBe(6);
  });

  it('a literal secret field, or a literal robot token in the URL', () => {
    expect(errorOf(office(`- dingtalk: { url: 'https://oapi.dingtalk.com/robot/send?access_token=\${T}', secret: abc }`)).message).toContain(
      "offices[0].channels[0].dingtalk.secret: unknown field 'secret'",
    );
    const e = errorOf(office(`- wecom: { url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx' }`));
    expect(e.field).toBe('offices[0].channels[0].wecom.url');
    expect(e.problem).toContain('${ENV} placeholder');
  });

  it('a region that is not a 6-digit code, and two offices for one region', () => {
    expect(errorOf(`offices:\n  - { id: a, name: 甲, region: 360731 }\n`).field).toBe('offices[0].region');
    const dup = errorOf(`offices:\n  - { id: a, name: 甲, region: '360731' }\n  - { id: b, name: 乙, region: '360731' }\n`);
    expect(dup.message).toBe(`routes.yaml:3: offices[1].region: region 360731 already belongs to office 'a'`);
  });

  it('an escalation time that is not a positive number of minutes', () => {
    const e = errorOf(`offices:\n  - { id: a, name: 甲, region: '360000' }\nescalation:\n  after_minutes: { 红: 0 }\n`);
    expect(e.field).toBe('escalation.after_minutes.红');
    expect(e.line).toBe(4);
  });
});
