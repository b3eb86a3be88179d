-- Artifact ownership (Crawl4AI 0.9 stores screenshots and PDFs as artifacts fetched later with
-- GET /artifacts/{id}): which tenant's request produced each artifact id. Written when the origin's
-- /screenshot or /pdf answer passes through the gateway; another tenant's GET is a 404.
CREATE TABLE IF NOT EXISTS crawl_artifacts (
  artifact_id TEXT PRIMARY KEY,
  tenant TEXT NOT NULL,
  principal_id TEXT NOT NULL,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS crawl_artifacts_created ON crawl_artifacts (created_at);
