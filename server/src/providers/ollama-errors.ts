/**
 * The Ollama SDK console.log()s while reading a non-JSON error body (a proxy's HTML 502), and
 * stdout is the LSP and ACP channel. Used as the SDK's fetch wrapper for every Ollama endpoint
 * (`/api/chat` in ollama.ts, `/api/show` in model-info.ts): such a body is handed over as JSON,
 * which keeps the SDK on its quiet path; good and JSON answers pass through untouched.
 */
export async function quietOllamaErrors(response: Response): Promise<Response> {
  if (response.ok || response.headers.get('content-type')?.includes('application/json')) return response;
  const text = (await response.text().catch(() => '')).trim().slice(0, 500);
  const headers = new Headers(response.headers);
  headers.set('content-type', 'application/json');
  headers.delete('content-length');
  const error = text || `HTTP ${response.status} ${response.statusText}`.trim();
  return new Response(JSON.stringify({ error }), { status: response.status, statusText: response.statusText, headers });
}
