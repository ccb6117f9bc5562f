-- Gig videos: the uploaded original is kept until ffmpeg has produced the
-- H.264/AAC MP4 and its poster (status ready); a failure keeps the
-- original and says why (status failed) for the seller to see.
CREATE TABLE gig_videos (
  id TEXT PRIMARY KEY,
  gig_id TEXT NOT NULL REFERENCES gigs(id),
  status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'ready', 'failed')),
  progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  original_key TEXT,
  original_type TEXT NOT NULL,
  mp4_key TEXT,
  poster_key TEXT,
  error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  CHECK (status <> 'ready' OR (mp4_key IS NOT NULL AND poster_key IS NOT NULL))
);
CREATE INDEX idx_gig_videos_gig ON gig_videos(gig_id, created_at);
CREATE INDEX idx_gig_videos_status ON gig_videos(status);
