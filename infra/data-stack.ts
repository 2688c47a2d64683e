import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { ROLES, STORE_ID_CLAIM, REGION_CLAIM } from '../shared/platform/roles.js';
import { TABLE } from '../shared/platform/table.js';
import { TOPICS, type TopicId } from '../shared/platform/topics.js';

/** The IAM principal tag that lets the mail integration subscribe to `customer-replies`. */
export const MAIL_INTEGRATION_TAG = { key: 'recall-role', value: 'mail-integration' } as const;

/**
 * Stateful resources: the table, the topics and the user pool. Kept apart from the
 * functions so that redeploying code never replaces data; everything here is retained.
 */
export class DataStack extends Stack {
  readonly table: dynamodb.TableV2;
  readonly topics: Record<TopicId, sns.Topic>;
  readonly userPool: cognito.UserPool;
  readonly userPoolClient: cognito.UserPoolClient;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.table = new dynamodb.TableV2(this, TABLE.id, {
      partitionKey: { name: TABLE.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: TABLE.sortKey, type: dynamodb.AttributeType.STRING },
      billing: dynamodb.Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      dynamoStream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      timeToLiveAttribute: TABLE.timeToLiveAttribute,
      removalPolicy: RemovalPolicy.RETAIN,
      globalSecondaryIndexes: TABLE.indexes.map((index) => ({
        indexName: index.name,
        partitionKey: { name: index.partitionKey, type: dynamodb.AttributeType.STRING },
        sortKey: { name: index.sortKey, type: dynamodb.AttributeType.STRING },
        projectionType: dynamodb.ProjectionType.INCLUDE,
        nonKeyAttributes: [...index.projected],
      })),
    });

    // The AWS-managed SNS key: encryption at rest without a key policy to maintain.
    const snsKey = kms.Alias.fromAliasName(this, 'SnsManagedKey', 'alias/aws/sns');
    const topic = (topicId: TopicId) =>
      new sns.Topic(this, `${topicId[0]!.toUpperCase()}${topicId.slice(1)}Topic`, {
        topicName: TOPICS[topicId].name,
        masterKey: snsKey,
        enforceSSL: true,
      });
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
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const role of ROLES) {
      new cognito.CfnUserPoolGroup(this, `Group-${role}`, {
        userPoolId: this.userPool.userPoolId,
        groupName: role,
        description: `recall system role: ${role}`,
      });
    }
    this.userPoolClient = this.userPool.addClient('ApiClient', {
      authFlows: { userSrp: true },
      generateSecret: false,
      preventUserExistenceErrors: true,
      // No OAuth flows and no placeholder callback URL until a sign-in page exists.
      disableOAuth: true,
      // A user may change their name and e-mail, never custom:storeId or custom:region:
      // those decide which store's notices and reports a token opens, and only an admin sets them.
      writeAttributes: new cognito.ClientAttributes().withStandardAttributes({ email: true, fullname: true }),
    });
  }
}
