-- Room themes (2.6, the free ones so far): staff-supplied data, one active
-- per room, the default 'night'. Colours are #rrggbb; the stylesheet
-- /assets/themes.css is generated from these rows.
CREATE TABLE room_themes (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL DEFAULT 'free',
  top_color TEXT NOT NULL,
  bottom_color TEXT NOT NULL,
  accent_color TEXT NOT NULL,
  sort_order INTEGER NOT NULL
);
INSERT INTO room_themes (id, name, kind, top_color, bottom_color, accent_color, sort_order) VALUES
  ('night', 'Night', 'free', '#0f1226', '#1a1f3d', '#ff7a59', 1),
  ('ocean', 'Ocean', 'free', '#03264a', '#0b6e8a', '#5ee0ff', 2),
  ('sunset', 'Sunset', 'free', '#3b0f3f', '#c2410c', '#ffd166', 3),
  ('forest', 'Forest', 'free', '#0b2418', '#1f5f3a', '#9be15d', 4),
  ('plum', 'Plum', 'free', '#230b33', '#5b1a6e', '#f08cff', 5);

ALTER TABLE rooms ADD COLUMN theme_id TEXT NOT NULL DEFAULT 'night';

-- Background music: the owner's uploaded track and whether it plays, since when.
ALTER TABLE rooms ADD COLUMN music_url TEXT;
ALTER TABLE rooms ADD COLUMN music_title TEXT;
ALTER TABLE rooms ADD COLUMN music_started_at TEXT;
