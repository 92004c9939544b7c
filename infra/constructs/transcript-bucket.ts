import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledgeWildcardResource } from './acknowledge-wildcard.ts';

export interface TranscriptBucketProps {
  /** Prefix of transcript objects (`TRANSCRIPT_PREFIX`). @default 'transcripts/' */
  transcriptPrefix?: string;
  /** Prefix under which SES stores raw inbound mail. @default 'inbound-mail/' */
  rawMailPrefix?: string;
  /** Days raw mail is kept; transcripts never expire (running conversations hold references to them). @default 90 */
  rawMailExpirationDays?: number;
  /** @default RemovalPolicy.RETAIN */
  removalPolicy?: RemovalPolicy;
}

/**
 * The bucket of content-addressed transcripts and of SES's raw inbound mail. Private,
 * SSE-S3 (SES writes into it, and SSE-KMS would need a key policy for SES and grants
 * for every reader), TLS only. Versioning is off: transcript objects are named by the
 * hash of their content and written with If-None-Match, so an object never changes; raw
 * mail is written once.
 */
export class TranscriptBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly transcriptPrefix: string;
  readonly rawMailPrefix: string;

  constructor(scope: Construct, id: string, props: TranscriptBucketProps = {}) {
    super(scope, id);
    this.transcriptPrefix = withSlash(props.transcriptPrefix ?? 'transcripts/');
    this.rawMailPrefix = withSlash(props.rawMailPrefix ?? 'inbound-mail/');
    this.bucket = new s3.Bucket(this, 'Bucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: false,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'expire-raw-mail', prefix: this.rawMailPrefix, expiration: Duration.days(props.rawMailExpirationDays ?? 90) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(7) },
      ],
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'No server access logs: they need a second bucket and duplicate what CloudTrail S3 data events give when an audit needs them; objects are private, TLS-only, and written only by SES (raw mail) and the worker role (transcripts).',
    });
  }

  /** Read and write transcript objects (the worker). Writes are conditional puts; nothing is deleted. */
  grantTranscriptReadWrite(grantee: iam.IGrantable): iam.Grant {
    this.grantList(grantee);
    this.acknowledgePrefixWildcard(
      grantee,
      this.transcriptPrefix,
      'Transcripts are content-addressed objects named by their hash under one prefix; the grantee reads and writes any of them, and nothing else.',
    );
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject', 's3:PutObject'],
      resourceArns: [this.bucket.arnForObjects(`${this.transcriptPrefix}*`)],
    });
  }

  /**
   * Store email attachments (the email ingress): write-only, and only the store's blobs, so a
   * flaw in the MIME parser can neither read a conversation nor overwrite a record.
   */
  grantAttachmentWrite(grantee: iam.IGrantable): iam.Grant {
    const blobs = `${this.transcriptPrefix}blobs/`;
    this.acknowledgePrefixWildcard(
      grantee,
      blobs,
      'Attachments are content-addressed blobs named by their hash under one prefix; the grantee writes them (conditional puts, never an overwrite) and reads nothing.',
    );
    return iam.Grant.addToPrincipal({ grantee, actions: ['s3:PutObject'], resourceArns: [this.bucket.arnForObjects(`${blobs}*`)] });
  }

  /**
   * Read the email thread records the worker writes for its replies (the email ingress): who
   * may continue which conversation, by reply token and by Message-ID. Nothing else of the store.
   */
  grantEmailThreadRead(grantee: iam.IGrantable): iam.Grant {
    this.grantList(grantee);
    const prefixes = ['token', 'message'].map((kind) => `${this.transcriptPrefix}email-threads/${kind}/`);
    for (const prefix of prefixes)
      this.acknowledgePrefixWildcard(
        grantee,
        prefix,
        'Thread records are named by the hash of a reply token or Message-ID under one prefix; the grantee reads them, and nothing else.',
      );
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject'],
      resourceArns: prefixes.map((prefix) => this.bucket.arnForObjects(`${prefix}*`)),
    });
  }

  /** Read raw inbound mail (the email ingress; the worker for attachments). */
  grantRawMailRead(grantee: iam.IGrantable): iam.Grant {
    this.grantList(grantee);
    this.acknowledgePrefixWildcard(
      grantee,
      this.rawMailPrefix,
      'SES stores each inbound message as one object, named by its message id, under one prefix; the grantee reads any of them, and nothing else.',
    );
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['s3:GetObject'],
      resourceArns: [this.bucket.arnForObjects(`${this.rawMailPrefix}*`)],
    });
  }

  /**
   * Without s3:ListBucket, S3 answers a missing key with 403 instead of 404, and the
   * readers tell "not there" (permanent) from "failed" (retry) by that status.
   */
  private grantList(grantee: iam.IGrantable): void {
    iam.Grant.addToPrincipal({ grantee, actions: ['s3:ListBucket'], resourceArns: [this.bucket.bucketArn] });
  }

  /** A prefix grant is a wildcard to cdk-nag (AwsSolutions-IAM5); each says why on the grantee's role. */
  private acknowledgePrefixWildcard(grantee: iam.IGrantable, prefix: string, reason: string): void {
    const principal = grantee.grantPrincipal;
    if (Construct.isConstruct(principal)) acknowledgeWildcardResource(principal, this.bucket.arnForObjects(`${prefix}*`), reason);
  }

  /** The environment the transcript store reads (store/create-store.ts). */
  transcriptStoreEnvironment(): Record<string, string> {
    return { TRANSCRIPT_STORE: 's3', TRANSCRIPT_BUCKET: this.bucket.bucketName, TRANSCRIPT_PREFIX: this.transcriptPrefix };
  }
}

function withSlash(prefix: string): string {
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}
