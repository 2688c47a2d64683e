import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { ROLES, STORE_ID_CLAIM, REGION_CLAIM } from '../shared/platform/roles.js';
import { TABLE } from '../shared/platform/table.js';
import { TOPICS, type TopicId } from '../shared/platform/topics.js';
import type { StageSettings } from './app.js';

/** The IAM principal tag that lets the mail integration subscribe to `customer-replies`. */
export const MAIL_INTEGRATION_TAG = { key: 'recall-role', value: 'mail-integration' } as const;

/** Where the CLI's `recall login` listens for the authorization code (RFC 8252 loopback). */
export const CLI_CALLBACK_URL = 'http://localhost:8765/callback';

export interface DataStackProps extends StackProps {
  readonly stage: StageSettings;
  /** The managed login's domain prefix; default `recall-<stage>-<account>`. */
  readonly authDomainPrefix?: string;
}

/**
 * Stateful resources: the table, the topics, their keys and the user pool. Kept apart from the
 * functions so that redeploying code never replaces data; in prod everything here is retained.
 */
export class DataStack extends Stack {
  readonly table: dynamodb.TableV2;
  readonly tableKey: kms.Key;
  /** Encrypts every topic, the ops topic included; CloudWatch and SNS may use it. */
  readonly topicKey: kms.Key;
  readonly topics: Record<TopicId, sns.Topic>;
  readonly userPool: cognito.UserPool;
  readonly userPoolClient: cognito.UserPoolClient;
  /** The `recall login` client: public, authorization code with PKCE, loopback callback. */
  readonly cliClient: cognito.UserPoolClient;
  readonly authDomain: cognito.UserPoolDomain;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const { stage } = props;

    this.tableKey = new kms.Key(this, 'TableKey', {
      description: `recall ${stage.name}: the table and its stream`,
      enableKeyRotation: true,
      removalPolicy: stage.statefulRemoval,
    });
    this.table = new dynamodb.TableV2(this, TABLE.id, {
      tableName: `recall-${stage.name}`,
      partitionKey: { name: TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: stage.retain,
      encryption: dynamodb.TableEncryptionV2.customerManagedKey(this.tableKey),
      // The only stream reader (functions/on-table-change.ts) reads NewImage alone: the old
      // image would only put a second copy of every changed item on the stream.
      dynamoStream: dynamodb.StreamViewType[TABLE.stream],
      timeToLiveAttribute: TABLE.timeToLiveAttribute,
      removalPolicy: stage.statefulRemoval,
      globalSecondaryIndexes: TABLE.indexes.map((index) => ({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.INCLUDE,
        nonKeyAttributes: [...index.projected],
      })),
    });

    // A customer-managed key, not alias/aws/sns: CloudWatch alarms can only publish to an
    // encrypted topic whose key policy lets cloudwatch.amazonaws.com use the key.
    this.topicKey = new kms.Key(this, 'TopicKey', {
      description: `recall ${stage.name}: SNS topics (notices, alerts, ops)`,
      enableKeyRotation: true,
      removalPolicy: stage.statefulRemoval,
    });
    this.topicKey.addToResourcePolicy(
      new iam.PolicyStatement({
        // CloudWatch alarms publish as the service, not as a role of this account; every other
        // publisher is a function role granted on the key by ARN (grantPublish).
        sid: 'AlarmsUseTheTopicKey',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    const topic = (topicId: TopicId) => {
      const created = new sns.Topic(this, `${topicId[0]!.toUpperCase()}${topicId.slice(1)}Topic`, {
        // The stage prefix is added here only: the local runtime uses the bare names.
        topicName: `recall-${stage.name}-${TOPICS[topicId].name}`,
        masterKey: this.topicKey,
        enforceSSL: true,
      });
      created.applyRemovalPolicy(stage.statefulRemoval);
      return created;
    };
    const customerReplies = topic('customerReplies');
    // Replies carry a customer's contact: only the mail integration, whose IAM role carries
    // the tag below, may subscribe to them; nobody else, administrators included.
    customerReplies.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheMailIntegrationSubscribes',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['sns:Subscribe'],
        resources: [customerReplies.topicArn],
        conditions: { StringNotEquals: { [`aws:PrincipalTag/${MAIL_INTEGRATION_TAG.key}`]: MAIL_INTEGRATION_TAG.value } },
      }),
    );
    this.topics = {
      storeNotices: topic('storeNotices'),
      publicNotices: topic('publicNotices'),
      incidentAlerts: topic('incidentAlerts'),
      customerReplies,
    };

    this.userPool = new cognito.UserPool(this, 'Users', {
      userPoolName: `recall-${stage.name}`,
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      passwordPolicy: {
        minLength: 12,
        requireDigits: true,
        requireLowercase: true,
        requireUppercase: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { sms: false, otp: true },
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      customAttributes: {
        [STORE_ID_CLAIM.replace('custom:', '')]: new cognito.StringAttribute({ mutable: true, maxLen: 64 }),
        [REGION_CLAIM.replace('custom:', '')]: new cognito.StringAttribute({ mutable: true, maxLen: 64 }),
      },
      deletionProtection: stage.retain,
      removalPolicy: stage.statefulRemoval,
    });
    for (const role of ROLES) {
      new cognito.CfnUserPoolGroup(this, `Group-${role}`, {
        userPoolId: this.userPool.userPoolId,
        groupName: role,
        description: `recall system role: ${role}`,
      });
    }
    // A user may change their name and e-mail, never custom:storeId or custom:region:
    // those decide which store's notices and reports a token opens, and only an admin sets them.
    const writeAttributes = () => new cognito.ClientAttributes().withStandardAttributes({ email: true, fullname: true });
    this.userPoolClient = this.userPool.addClient('ApiClient', {
      authFlows: { userSrp: true },
      generateSecret: false,
      preventUserExistenceErrors: true,
      // SRP sign-in from programs; people sign in through the CLI client's managed login.
      disableOAuth: true,
      writeAttributes: writeAttributes(),
    });

    this.authDomain = this.userPool.addDomain('Login', {
      cognitoDomain: { domainPrefix: props.authDomainPrefix ?? `recall-${stage.name}-${this.account}` },
      managedLoginVersion: cognito.ManagedLoginVersion.NEWER_MANAGED_LOGIN,
    });
    this.cliClient = this.userPool.addClient('CliClient', {
      // A native app cannot keep a secret (RFC 8252): a public client, the code grant with
      // PKCE (the CLI sends a S256 code challenge), no implicit grant, no client credentials.
      generateSecret: false,
      preventUserExistenceErrors: true,
      oAuth: {
        flows: { authorizationCodeGrant: true, implicitCodeGrant: false, clientCredentials: false },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [CLI_CALLBACK_URL],
        logoutUrls: [CLI_CALLBACK_URL],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      idTokenValidity: Duration.hours(1),
      accessTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
      enableTokenRevocation: true,
      writeAttributes: writeAttributes(),
    });
    // Sign-in happens on the managed login only: no password or SRP flow on this client,
    // just the refresh of the tokens the code grant returned.
    (this.cliClient.node.defaultChild as cognito.CfnUserPoolClient).explicitAuthFlows = ['ALLOW_REFRESH_TOKEN_AUTH'];
    // The newer managed login renders a client's pages only once it has a style.
    new cognito.CfnManagedLoginBranding(this, 'CliLoginBranding', {
      userPoolId: this.userPool.userPoolId,
      clientId: this.cliClient.userPoolClientId,
      useCognitoProvidedValues: true,
    });
  }
}
