-- Version 2: indexes in the order alert search sorts (newest first, ties
-- by municipality, sensor, sequence), so that a page is read off an index
-- instead of sorting every match; indicators found by value (search) and
-- by value and kind (campaigns) through one index; alerts by when they
-- arrived, so that correlation looks at what is new. Indexes nothing reads
-- are dropped: each costs every insert (ingest ran at half speed with
-- them).
DROP INDEX alerts_ts;
DROP INDEX alerts_municipality_ts;
DROP INDEX alerts_detector_ts;
DROP INDEX indicators_value_ts;
DROP INDEX indicators_ts;
CREATE INDEX alerts_order ON alerts (ts, municipality, sensor, seq);
CREATE INDEX alerts_municipality_order ON alerts (municipality, ts, sensor, seq);
CREATE INDEX alerts_detector_order ON alerts (detector, ts, municipality, sensor, seq);
CREATE INDEX alerts_received ON alerts (received);
CREATE INDEX indicators_value ON indicators (value, kind, ts);
