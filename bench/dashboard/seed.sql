-- Seeds :n applications spread over the 365 days before now (Beijing time), with their journey steps, decisions,
-- loan requests, loans with 12 instalments (some overdue), leads (one per five applications) and three audit entries
-- per application. Personal fields hold placeholder text: no dashboard opens them. Run by bench/dashboard/run.sh
-- against a database the server has migrated; psql -v n=100000.
\set ON_ERROR_STOP on
BEGIN;
CREATE TEMP TABLE managers(k int PRIMARY KEY, code text, branch text);
INSERT INTO managers VALUES (0, 'SZ-0001', 'SZ-NS'), (1, 'SZ-0002', 'SZ-FT'), (2, 'WH-0001', 'WH-JH'), (3, 'WH-0002', 'WH-WC'),
  (4, 'SH-0001', 'SH-PD'), (5, 'SH-0002', 'SH-HP'), (6, NULL, NULL);

-- i, its manager, how far it got (0 phone … 8 loan request), when it started.
CREATE TEMP TABLE seed AS
SELECT i, gen_random_uuid() AS id, (i % 7) AS m, (i * 7919 % 9) AS depth,
       now() - ((i % 365) || ' days')::interval - ((i * 37 % 80000) || ' seconds')::interval AS started,
       CASE WHEN i % 10 < 7 THEN 'approved' WHEN i % 10 < 9 THEN 'declined' ELSE 'referred' END AS outcome
FROM generate_series(1, :n) AS i;

INSERT INTO applications (id, phone_index, phone_sealed, state, cm_first, channel_first, cm_last, channel_last, cm_last_at,
  face_attempts, decision, credit_limit, annual_rate, decided_at, loan_amount, loan_term_months, loan_method, loan_purpose,
  loan_requested_at, last_activity_at, created_at, updated_at, version)
SELECT s.id, 'bench-' || s.i, 'bench', 
       CASE WHEN s.depth = 8 AND s.outcome = 'approved' THEN 'loan_requested' WHEN s.depth >= 7 THEN s.outcome ELSE 'started' END,
       g.code, CASE WHEN s.i % 3 = 0 THEN 'poster' ELSE 'qr' END, g.code, CASE WHEN s.i % 3 = 0 THEN 'poster' ELSE 'qr' END, s.started,
       0,
       CASE WHEN s.depth >= 7 THEN s.outcome END,
       CASE WHEN s.depth >= 7 AND s.outcome = 'approved' THEN '50000.00' END,
       CASE WHEN s.depth >= 7 AND s.outcome = 'approved' THEN '7.20' END,
       CASE WHEN s.depth >= 7 THEN s.started + interval '10 minutes' END,
       CASE WHEN s.depth = 8 AND s.outcome = 'approved' THEN ((s.i % 40 + 1) * 1000) || '.00' END,
       CASE WHEN s.depth = 8 AND s.outcome = 'approved' THEN 12 END,
       CASE WHEN s.depth = 8 AND s.outcome = 'approved' THEN 'equal-installment' END,
       CASE WHEN s.depth = 8 AND s.outcome = 'approved' THEN 'consumption' END,
       CASE WHEN s.depth = 8 AND s.outcome = 'approved' THEN s.started + interval '12 minutes' END,
       s.started + interval '12 minutes', s.started, s.started + interval '12 minutes', 1
FROM seed s JOIN managers g ON g.k = s.m;

-- One row per step reached: the steps before the last are completed, the last is where the applicant is now.
INSERT INTO journey_steps (id, application_id, step, day, entered_at, completed_at, seconds, journey_seconds, channel, campaign, manager_code, branch_code)
SELECT gen_random_uuid(), s.id, st.name,
       to_char((s.started + (st.n * 60 || ' seconds')::interval) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'),
       s.started + (st.n * 60 || ' seconds')::interval,
       CASE WHEN st.n < s.depth OR (st.n = 8 AND s.depth = 8) THEN s.started + ((st.n + 1) * 60 || ' seconds')::interval END,
       CASE WHEN st.n < s.depth OR (st.n = 8 AND s.depth = 8) THEN 60 END,
       CASE WHEN st.n = 8 AND s.depth = 8 THEN 540 END,
       CASE WHEN s.i % 3 = 0 THEN 'poster' ELSE 'qr' END, CASE WHEN s.i % 5 = 0 THEN 'winter' END, g.code, g.branch
FROM seed s JOIN managers g ON g.k = s.m
JOIN (VALUES (0, 'phone'), (1, 'id_card'), (2, 'face'), (3, 'bank_card'), (4, 'authorization'), (5, 'about_you'), (6, 'decision'), (7, 'decision'), (8, 'loan_request'))
  AS st(n, name) ON st.n <= s.depth AND st.n <> 7;

-- Half the loan requests were paid out; a loan started more than 40 days ago and ending in 3 or 7 is overdue.
CREATE TEMP TABLE seeded_loans AS
SELECT gen_random_uuid() AS id, s.id AS application_id, s.i, s.started, (s.i % 40 + 1) * 100000 AS fen, g.code AS manager_code,
       CASE WHEN s.started < now() - interval '40 days' AND s.i % 10 IN (3, 7) THEN 'overdue' ELSE 'active' END AS status
FROM seed s JOIN managers g ON g.k = s.m WHERE s.depth = 8 AND s.outcome = 'approved' AND s.i % 2 = 0;

INSERT INTO loans (id, application_id, phone_index, principal_fen, annual_rate, term_months, method, start_date, status, version,
  disbursement_payment_id, disbursed_at, updated_at, manager_code)
SELECT l.id, l.application_id, 'bench-' || l.i, l.fen, '7.20', 12, 'equal-installment',
       to_char(l.started AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'), l.status, 1, gen_random_uuid(), l.started + interval '20 minutes', l.started,
       l.manager_code
FROM seeded_loans l;
-- The per-manager counts the server keeps in step with every loan (LoanCounts), rebuilt as its migration does.
DELETE FROM loan_counts;
INSERT INTO loan_counts (manager_code, status, count)
SELECT COALESCE(manager_code, ''), status, COUNT(*) FROM loans GROUP BY COALESCE(manager_code, ''), status;

INSERT INTO loan_installments (id, loan_id, number, due_date, principal_fen, interest_fen, penalty_fen, paid_principal_fen,
  paid_interest_fen, paid_penalty_fen, interest_recognized, status)
SELECT gen_random_uuid(), l.id, k.n, to_char((l.started + (k.n || ' months')::interval) AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM-DD'),
       l.fen / 12, l.fen / 200, CASE WHEN l.status = 'overdue' AND k.n = 1 THEN 500 ELSE 0 END,
       CASE WHEN l.started + (k.n || ' months')::interval < now() AND NOT (l.status = 'overdue' AND k.n = 1) THEN l.fen / 12 ELSE 0 END,
       CASE WHEN l.started + (k.n || ' months')::interval < now() AND NOT (l.status = 'overdue' AND k.n = 1) THEN l.fen / 200 ELSE 0 END,
       0, l.started + (k.n || ' months')::interval < now(),
       CASE WHEN l.status = 'overdue' AND k.n = 1 THEN 'overdue'
            WHEN l.started + (k.n || ' months')::interval < now() THEN 'paid' ELSE 'scheduled' END
FROM seeded_loans l CROSS JOIN generate_series(1, 12) AS k(n);

INSERT INTO leads (id, phone_index, phone_sealed, name_sealed, city, status, manager_code, branch_code, cm, channel,
  consent_version, consented_at, due_by, version, created_at, updated_at)
SELECT gen_random_uuid(), 'bench-lead-' || s.i, 'bench', 'bench', '深圳',
       (ARRAY['new', 'contacted', 'applying', 'converted', 'lost'])[s.i % 5 + 1], g.code, COALESCE(g.branch, 'HO'), g.code, 'qr',
       'LEAD-2026-01', s.started, s.started + interval '2 hours', 1, s.started, s.started
FROM seed s JOIN managers g ON g.k = s.m WHERE s.i % 5 = 0;

-- Three audit entries per application after whatever the server already wrote (sign-ins, seeding), at the end of the
-- chain's lane 1, so its head row still names the newest; numbered by the entries' sequence. Their hashes are
-- placeholders: the chain is not verified here.
INSERT INTO audit_entries (id, sequence, application_id, actor, action, details, recorded_at, previous_hash, entry_hash, lane, lane_position)
SELECT gen_random_uuid(), nextval('audit_entries_sequence'), s.id,
       CASE WHEN e.n = 2 AND s.i % 50 = 0 THEN 'staff:' || lower(COALESCE(g.code, 'risk1')) ELSE 'applicant' END,
       (ARRAY['application.started', 'id_card.confirmed', 'decision.made'])[e.n + 1], '{}', s.started + (e.n || ' minutes')::interval,
       'bench', 'bench', 1, h.sequence + row_number() OVER (ORDER BY s.i, e.n)
FROM seed s JOIN managers g ON g.k = s.m CROSS JOIN generate_series(0, 2) AS e(n) CROSS JOIN audit_head h WHERE h.id = 1;
UPDATE audit_head SET sequence = (SELECT MAX(lane_position) FROM audit_entries WHERE lane = 1) WHERE id = 1;
COMMIT;
VACUUM ANALYZE;
