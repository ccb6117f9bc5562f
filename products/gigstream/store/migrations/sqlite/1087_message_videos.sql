-- Videos sent in messages: the attachment's original (its key names the
-- attachment) is converted by the same ffmpeg job as gig videos into an
-- H.264/AAC MP4 and a poster under messages/videos/, fetched by the
-- conversation's parties only. A poster from the original is stored first
-- and shown until the MP4 is ready.
CREATE TABLE message_videos (
  id TEXT PRIMARY KEY,
  message_id TEXT NOT NULL REFERENCES messages(id),
  conversation_id TEXT NOT NULL REFERENCES conversations(id),
  original_key TEXT NOT NULL UNIQUE,
  original_type TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'ready', 'failed')),
  progress INTEGER NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
  mp4_key TEXT UNIQUE,
  poster_key TEXT UNIQUE,
  error TEXT,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  CHECK (status <> 'ready' OR (mp4_key IS NOT NULL AND poster_key IS NOT NULL))
);
CREATE INDEX idx_message_videos_conversation ON message_videos(conversation_id, created_at);
CREATE INDEX idx_message_videos_status ON message_videos(status);
