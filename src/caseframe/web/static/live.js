// caseframe live updates: other users' changes, from the server's event stream (/api/events),
// as a `caseframe:change` event on `document` with detail {kind, id, document_id, actor,
// event_id, action}. The browser reconnects by itself and sends the last event's id, so nothing
// in between is missed; the stream ends when the session does.

const KINDS = new Set(["coding", "memo", "code", "document"]);

function connect() {
  if (!window.EventSource) return;
  const source = new EventSource("/api/events");
  source.onmessage = (message) => {
    let change;
    try {
      change = JSON.parse(message.data);
    } catch {
      return;
    }
    if (!change || !KINDS.has(change.kind)) return;
    const detail = {
      kind: change.kind,
      id: change.id,
      document_id: change.document_id,
      actor: change.actor,
      event_id: change.event_id,
      action: change.action,
    };
    document.dispatchEvent(new CustomEvent("caseframe:change", { detail }));
  };
  source.addEventListener("signed-out", () => source.close());
}

connect();
