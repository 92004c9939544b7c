import { Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 finding for one wildcard resource granted to
 * `principal`, with the reason. The finding's id is the resource as cdk-nag flattens it
 * (`<Bucket.Arn>/prefix/*`, `arn:<AWS::Partition>:…`), derived here from the very ARN that
 * was granted, so the id stays right whether the stack's account and region are known.
 */
export function acknowledgeWildcardResource(principal: IConstruct, resourceArn: string, reason: string): void {
  const flattened = flatten(Stack.of(principal).resolve(resourceArn));
  Validations.of(principal).acknowledge({ id: `AwsSolutions-IAM5[Resource::${flattened}]`, reason });
}

function flatten(node: unknown): string {
  if (node === undefined) return '';
  if (typeof node === 'string') return node.replace(/\$\{/g, '<').replace(/\}/g, '>');
  const intrinsic = node as Record<string, unknown>;
  if (Array.isArray(intrinsic['Fn::Join'])) {
    const [delimiter, items] = intrinsic['Fn::Join'] as [string, unknown[]];
    return items.map(flatten).join(delimiter);
  }
  if ('Fn::Sub' in intrinsic) return flatten(intrinsic['Fn::Sub']);
  if (Array.isArray(intrinsic['Fn::GetAtt'])) {
    const [resource, attribute] = intrinsic['Fn::GetAtt'] as [unknown, unknown];
    return `<${flatten(resource)}.${flatten(attribute)}>`;
  }
  if ('Ref' in intrinsic) return `<${flatten(intrinsic.Ref)}>`;
  return JSON.stringify(node);
}
