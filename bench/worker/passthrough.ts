/** The benchmark's yardstick: a Worker that forwards every request to the origin and does nothing else. */
interface PassthroughEnv {
  ORIGIN: string;
}

export default {
  async fetch(request, env): Promise<Response> {
    const url = new URL(request.url);
    return fetch(env.ORIGIN + url.pathname + url.search, request);
  },
} satisfies ExportedHandler<PassthroughEnv>;
