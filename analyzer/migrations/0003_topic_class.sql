-- Version 3: an event's `topic` is its sensor topic class (alerts, health,
-- assets, app, conn) without the deployment's prefix, so that retention
-- deletes one kind through the (topic, received) index instead of reading
-- every event with `topic LIKE '%alerts'`. The index on an alert's source
-- address goes: no search reads it, and each random insert into it cost
-- ingest a page write per alert once the store outgrew memory.
DROP INDEX alerts_src;
UPDATE events SET topic = CASE
    WHEN topic LIKE '%alerts' THEN 'alerts'
    WHEN topic LIKE '%health' THEN 'health'
    WHEN topic LIKE '%assets' THEN 'assets'
    WHEN topic LIKE '%app' THEN 'app'
    WHEN topic LIKE '%conn' THEN 'conn'
    ELSE topic END;
