/**
 * A CRM-style app: entity CRUD on customers with old and new values, by sales people, by
 * automations (enrichment, nightly clean-up) and by API tokens (billing and signup sync). Some
 * customer fields are secret (`api_key`, `ssn_last4`), so redaction shows on every kind of change.
 */
import type { EventInput, Target } from '../../core/event.js';
import { machine, people, type CastMember } from '../cast.js';
import { Random, Weighted } from '../random.js';
import {
  created,
  deleted,
  changed,
  evolve,
  makeEvent,
  Pool,
  target,
  type Entity,
  type Script,
  type Stamp,
  type Vocabulary,
} from '../vocabulary.js';

const DOMAIN = 'harbor.example';

export const CRM_ACTIONS = [
  'customer.created',
  'customer.updated',
  'customer.deleted',
  'customer.viewed',
  'customer.exported',
  'user.logged_in',
  'api_token.created',
  'api_token.revoked',
] as const;

type CustomerState = {
  name: string;
  email: string;
  phone: string;
  plan: 'free' | 'starter' | 'pro' | 'enterprise';
  status: 'lead' | 'active' | 'churned';
  owner: string;
  lifetime_value: number;
  ssn_last4: string;
  api_key: string;
  updated_at: string;
};

const COMPANIES = [
  'Acme Logistics',
  'Globex',
  'Initech',
  'Umbrella Health',
  'Stark Freight',
  'Wayne Foods',
  'Hooli Cloud',
  'Vandelay Imports',
  'Soylent Labs',
  'Pied Piper',
  'Massive Dynamic',
  'Wonka Confections',
];

export const crmVocabulary: Vocabulary = {
  id: 'crm',
  name: 'Harbor CRM (demo)',
  share: 0.15,
  utcOffsetHours: -8,
  settings: {
    categories: [
      { id: 'customers', label: 'Customers', patterns: ['customer.*'] },
      { id: 'access', label: 'Access', patterns: ['user.*'] },
      { id: 'api_tokens', label: 'API tokens', patterns: ['api_token.*'] },
    ],
    resources: {
      customer: {
        fields: {
          name: 'track',
          email: 'track',
          phone: 'track',
          plan: 'track',
          status: 'track',
          owner: 'track',
          lifetime_value: 'track',
          ssn_last4: 'secret',
          api_key: 'secret',
          updated_at: 'ignore',
        },
      },
      api_token: { fields: { name: 'track', scopes: 'track', token: 'secret' } },
    },
  },
  actions: CRM_ACTIONS,
  script: (rng) => new CrmScript(rng),
};

class CrmScript implements Script {
  private readonly people: CastMember[];
  private readonly automations: CastMember[];
  private readonly tokens: CastMember[];
  private readonly customers = new Pool<Entity<CustomerState>>(500);
  /** Integration tokens currently revoked, waiting to be issued again. */
  private readonly revoked = new Set<string>();
  private readonly choices: Weighted<(stamp: Stamp) => EventInput>;
  private serial = 0;

  constructor(private readonly rng: Random) {
    this.people = people(rng, DOMAIN, 7);
    this.automations = [
      machine(
        rng,
        'automation',
        'aut_enrichment',
        'Enrichment workflow',
        'harbor-workflows/2.3',
        'internal',
      ),
      machine(
        rng,
        'automation',
        'aut_dedupe',
        'Nightly dedupe',
        'harbor-workflows/2.3',
        'internal',
      ),
    ];
    this.tokens = [
      machine(rng, 'api_token', 'tok_billing', 'billing-sync', 'python-requests/2.32.3', 'public'),
      machine(rng, 'api_token', 'tok_signup', 'signup-webhook', 'node-fetch/3.3.2', 'public'),
    ];
    this.choices = new Weighted<(stamp: Stamp) => EventInput>([
      [18, (s) => this.createCustomer(s)],
      [45, (s) => this.updateCustomer(s)],
      [4, (s) => this.deleteCustomer(s)],
      [14, (s) => this.viewCustomer(s)],
      [1.5, (s) => this.exportCustomers(s)],
      [12, (s) => this.login(s)],
      [0.6, (s) => this.tokenChange(s)],
    ]);
  }

  next(stamp: Stamp): EventInput {
    return this.choices.pick(this.rng)(stamp);
  }

  private id(prefix: string): string {
    return `${prefix}_${this.rng.hex(4)}${(++this.serial).toString(36).padStart(5, '0')}`;
  }

  private customerTarget(customer: Entity<CustomerState>): Target {
    return target('customer', customer.id, customer.state.name);
  }

  private createCustomer(stamp: Stamp): EventInput {
    const rng = this.rng;
    if (this.customers.full) return this.updateCustomer(stamp);
    const company = `${rng.pick(COMPANIES)}${rng.chance(0.5) ? '' : ` ${rng.pick(['EU', 'US', 'APAC', 'Group'])}`}`;
    const slug = company.toLowerCase().replace(/[^a-z]+/g, '');
    const viaApi = rng.chance(0.45);
    const by = viaApi ? rng.pick(this.tokens) : rng.pick(this.people);
    const customer: Entity<CustomerState> = {
      id: this.id('cus'),
      state: {
        name: company,
        email: `billing@${slug}.example`,
        phone: `+1-555-${rng.between(100, 999)}-${rng.between(1000, 9999)}`,
        plan: rng.pick(['free', 'starter', 'starter', 'pro', 'enterprise']),
        status: viaApi ? 'active' : 'lead',
        owner: rng.pick(this.people).actor.email ?? '',
        lifetime_value: viaApi ? rng.between(0, 5000) : 0,
        ssn_last4: String(rng.between(0, 9999)).padStart(4, '0'),
        api_key: `hk_live_${rng.hex(20)}`,
        updated_at: stamp.occurred_at,
      },
    };
    this.customers.add(customer);
    return makeEvent(rng, stamp, 'customer.created', by, {
      targets: [this.customerTarget(customer)],
      ...created(customer),
      metadata: { source: viaApi ? 'api' : rng.pick(['web', 'import']) },
    });
  }

  private updateCustomer(stamp: Stamp): EventInput {
    const rng = this.rng;
    const customer = this.customers.pick(rng);
    if (customer === undefined) return this.createCustomer(stamp);
    const targets = [this.customerTarget(customer)];
    const roll = rng.next();
    if (roll < 0.2) {
      // Enrichment sends its own old/new pairs instead of whole objects.
      const automation = this.automations[0] as CastMember;
      const old = customer.state.lifetime_value;
      const value = old + rng.between(50, 4000);
      evolve(customer, { lifetime_value: value, updated_at: stamp.occurred_at });
      return makeEvent(rng, stamp, 'customer.updated', automation, {
        targets,
        changes: [{ field: 'lifetime_value', old, new: value }],
        metadata: { workflow: 'enrichment', run: rng.between(1, 5000) },
      });
    }
    if (roll < 0.32) {
      const token = rng.pick(this.tokens);
      if (this.revoked.has(token.actor.id)) {
        // The integration keeps calling with its revoked token until someone reissues it.
        return makeEvent(rng, stamp, 'customer.updated', token, {
          targets,
          outcome: 'failure',
          metadata: { error: 'token_revoked' },
        });
      }
      if (rng.chance(0.1)) {
        return makeEvent(rng, stamp, 'customer.updated', token, {
          targets,
          outcome: 'failure',
          metadata: { error: 'validation_failed', field: 'phone' },
        });
      }
      const plan = rng.pick(['starter', 'pro', 'enterprise'] as const);
      return makeEvent(rng, stamp, 'customer.updated', token, {
        targets,
        ...evolve(customer, { plan, status: 'active', updated_at: stamp.occurred_at }),
        metadata: { source: 'billing' },
      });
    }
    const person = rng.pick(this.people);
    const patch: Partial<CustomerState> = { updated_at: stamp.occurred_at };
    const what = rng.int(6);
    if (what === 0) patch.phone = `+1-555-${rng.between(100, 999)}-${rng.between(1000, 9999)}`;
    else if (what === 1) patch.owner = rng.pick(this.people).actor.email ?? '';
    else if (what === 2) patch.status = rng.pick(['lead', 'active', 'churned'] as const);
    else if (what === 3) patch.api_key = `hk_live_${rng.hex(20)}`;
    else if (what === 4) patch.ssn_last4 = String(rng.between(0, 9999)).padStart(4, '0');
    else
      patch.email = `accounts.${rng.between(1, 99)}@${customer.state.name.toLowerCase().replace(/[^a-z]+/g, '')}.example`;
    // The web app sends whole records; its bulk editor sends old/new pairs (never for secrets).
    const secret = patch.api_key !== undefined || patch.ssn_last4 !== undefined;
    return makeEvent(rng, stamp, 'customer.updated', person, {
      targets,
      ...(secret || rng.chance(0.25)
        ? evolve(customer, patch)
        : changed(customer, patch, ['updated_at'])),
    });
  }

  private deleteCustomer(stamp: Stamp): EventInput {
    const rng = this.rng;
    const customer = this.customers.pick(rng);
    if (customer === undefined) return this.createCustomer(stamp);
    this.customers.remove(customer);
    const by = rng.chance(0.3) ? (this.automations[1] as CastMember) : rng.pick(this.people);
    return makeEvent(rng, stamp, 'customer.deleted', by, {
      targets: [this.customerTarget(customer)],
      ...deleted(customer),
      ...(by.actor.type === 'automation' ? { metadata: { reason: 'duplicate' } } : {}),
    });
  }

  private viewCustomer(stamp: Stamp): EventInput {
    const customer = this.customers.pick(this.rng);
    if (customer === undefined) return this.createCustomer(stamp);
    return makeEvent(this.rng, stamp, 'customer.viewed', this.rng.pick(this.people), {
      targets: [this.customerTarget(customer)],
      operation: 'read',
    });
  }

  private exportCustomers(stamp: Stamp): EventInput {
    const rng = this.rng;
    return makeEvent(rng, stamp, 'customer.exported', rng.pick(this.people), {
      targets: [],
      operation: 'read',
      metadata: {
        format: rng.pick(['csv', 'xlsx']),
        rows: rng.between(10, 5000),
        filter: 'plan:pro',
      },
    });
  }

  private login(stamp: Stamp): EventInput {
    const rng = this.rng;
    const person = rng.pick(this.people);
    const failed = rng.chance(0.07);
    return makeEvent(rng, stamp, 'user.logged_in', person, {
      targets: [target('user', person.actor.id, person.actor.email)],
      operation: 'other',
      ...(failed
        ? { outcome: 'failure', metadata: { error: 'invalid_password' }, rareIpRate: 0.3 }
        : { metadata: { mfa: rng.chance(0.7) } }),
    });
  }

  private tokenChange(stamp: Stamp): EventInput {
    const rng = this.rng;
    const token = rng.pick(this.tokens);
    const admin = this.people[0] as CastMember;
    const entity = {
      id: token.actor.id,
      state: {
        name: token.actor.name ?? token.actor.id,
        scopes: ['customers:write'],
        token: `hk_tok_${rng.hex(24)}`,
      },
    };
    if (!this.revoked.has(entity.id)) {
      this.revoked.add(entity.id);
      return makeEvent(rng, stamp, 'api_token.revoked', admin, {
        targets: [target('api_token', entity.id, entity.state.name)],
        operation: 'delete',
        ...deleted(entity),
      });
    }
    this.revoked.delete(entity.id);
    return makeEvent(rng, stamp, 'api_token.created', admin, {
      targets: [target('api_token', entity.id, entity.state.name)],
      ...created(entity),
    });
  }
}
