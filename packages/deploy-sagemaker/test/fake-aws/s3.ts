/**
 * The fake S3 (REST XML, path-style: /bucket and /bucket/key): buckets, objects with tags from
 * x-amz-tagging, and S3's XML errors (NoSuchBucket, NoSuchKey, BucketNotEmpty, ...).
 * FAKE: a test double of AWS, not S3.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AwsFault, escapeXml, requestId, sendXml } from './protocol.js';
import type { FakeContext } from './context.js';

/** The S3 operation a request is (for logging and error injection). */
export function s3Operation(method: string, bucket: string, key: string, query: URLSearchParams): string {
  if (!key) {
    if (method === 'PUT') return 'CreateBucket';
    if (method === 'HEAD') return 'HeadBucket';
    if (method === 'DELETE') return 'DeleteBucket';
    if (method === 'GET' && query.get('list-type') === '2') return 'ListObjectsV2';
    if (method === 'GET' && !bucket) return 'ListBuckets';
    return `${method}Bucket`;
  }
  if (method === 'PUT') return query.has('tagging') ? 'PutObjectTagging' : 'PutObject';
  if (method === 'GET') return query.has('tagging') ? 'GetObjectTagging' : 'GetObject';
  if (method === 'HEAD') return 'HeadObject';
  if (method === 'DELETE') return 'DeleteObject';
  return `${method}Object`;
}

export function s3Error(res: ServerResponse, fault: AwsFault, method: string): void {
  if (method === 'HEAD') {
    res.writeHead(fault.status, { 'x-amz-request-id': requestId() });
    res.end();
    return;
  }
  sendXml(
    res,
    fault.status,
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${fault.code}</Code><Message>${escapeXml(fault.message)}</Message><RequestId>${requestId()}</RequestId></Error>`,
  );
}

export function handleS3(
  ctx: FakeContext,
  region: string,
  req: IncomingMessage,
  res: ServerResponse,
  bucketName: string,
  key: string,
  query: URLSearchParams,
  body: Buffer,
): void {
  const s = ctx.state;
  const method = req.method ?? 'GET';
  const bucket = s.buckets.get(bucketName);
  const noBucket = (): AwsFault => new AwsFault('NoSuchBucket', 'The specified bucket does not exist', 404);
  if (!key) {
    switch (method) {
      case 'PUT': {
        if (bucket) throw new AwsFault('BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.', 409);
        const lc = /<LocationConstraint>([^<]*)<\/LocationConstraint>/.exec(body.toString('utf8'))?.[1] ?? 'us-east-1';
        if (lc !== region)
          throw new AwsFault(
            'IllegalLocationConstraintException',
            `The ${lc} location constraint is incompatible for the region specific endpoint this request was sent to.`,
          );
        s.buckets.set(bucketName, { region: lc, objects: new Map() });
        res.writeHead(200, { location: `/${bucketName}`, 'content-length': '0' });
        res.end();
        return;
      }
      case 'HEAD':
        if (!bucket) throw new AwsFault('NotFound', 'Not Found', 404);
        res.writeHead(200, { 'x-amz-bucket-region': bucket.region });
        res.end();
        return;
      case 'DELETE':
        if (!bucket) throw noBucket();
        if (bucket.objects.size > 0) throw new AwsFault('BucketNotEmpty', 'The bucket you tried to delete is not empty', 409);
        s.buckets.delete(bucketName);
        res.writeHead(204);
        res.end();
        return;
      case 'GET': {
        if (!bucket) throw noBucket();
        const prefix = query.get('prefix') ?? '';
        const keys = [...bucket.objects.keys()].filter((k) => k.startsWith(prefix)).sort();
        const contents = keys.map((k) => `<Contents><Key>${escapeXml(k)}</Key><Size>${bucket.objects.get(k)!.body.length}</Size></Contents>`).join('');
        sendXml(
          res,
          200,
          `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult><Name>${escapeXml(bucketName)}</Name><Prefix>${escapeXml(prefix)}</Prefix><KeyCount>${keys.length}</KeyCount><IsTruncated>false</IsTruncated>${contents}</ListBucketResult>`,
        );
        return;
      }
    }
    throw new AwsFault('MethodNotAllowed', `${method} on a bucket is not implemented by the fake`, 405);
  }
  if (!bucket) throw noBucket();
  switch (method) {
    case 'PUT': {
      const tags = Object.fromEntries(new URLSearchParams(String(req.headers['x-amz-tagging'] ?? '')));
      bucket.objects.set(key, { body, contentType: String(req.headers['content-type'] ?? 'binary/octet-stream'), tags });
      res.writeHead(200, { etag: `"${body.length.toString(16)}"`, 'content-length': '0' });
      res.end();
      return;
    }
    case 'GET':
    case 'HEAD': {
      const o = bucket.objects.get(key);
      if (!o) throw new AwsFault('NoSuchKey', 'The specified key does not exist.', 404);
      res.writeHead(200, { 'content-type': o.contentType, 'content-length': String(o.body.length), etag: `"${o.body.length.toString(16)}"` });
      res.end(method === 'GET' ? o.body : undefined);
      return;
    }
    case 'DELETE':
      bucket.objects.delete(key);
      res.writeHead(204);
      res.end();
      return;
  }
  throw new AwsFault('MethodNotAllowed', `${method} on an object is not implemented by the fake`, 405);
}
