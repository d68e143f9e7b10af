-- Requests to erase a client's data (docs/adr/0014-erasure-requests-and-account-control.md):
-- made by someone who works on the case, decided by an ADMIN other than the requester. A
-- read model of the `ErasureRequest` streams, rebuilt with the others. The reason is a
-- sentence about the request, never the client's identity (ADR 0003).
CREATE TABLE rm_erasure_request
(
    request_id      text PRIMARY KEY,
    case_id         text NOT NULL,
    reason          text NOT NULL,
    requested_by    text NOT NULL,
    requested_at    text NOT NULL,
    status          text NOT NULL,
    decided_by      text,
    decided_at      text,
    decision_reason text
);
CREATE INDEX rm_erasure_request_case ON rm_erasure_request (case_id);
CREATE INDEX rm_erasure_request_status ON rm_erasure_request (status, requested_at);
