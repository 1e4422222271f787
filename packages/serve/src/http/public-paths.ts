/** Paths that never need auth: the health checks load balancers and SageMaker probe without credentials. */
export function isPublicPath(path: string): boolean {
  return path === '/ping' || path === '/health' || path === '/v2/health/live' || path === '/v2/health/ready';
}
