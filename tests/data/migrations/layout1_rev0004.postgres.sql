--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: alembic_version; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.alembic_version (
    version_num character varying(32) NOT NULL
);


--
-- Name: annotation; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.annotation (
    id integer NOT NULL,
    media_id integer NOT NULL,
    review_item_id integer,
    author_id integer NOT NULL,
    start_s double precision NOT NULL,
    end_s double precision NOT NULL,
    labels text NOT NULL,
    rating integer,
    feedback text NOT NULL,
    teaching boolean NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    submitted_at timestamp with time zone
);


--
-- Name: annotation_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.annotation_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: annotation_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.annotation_id_seq OWNED BY public.annotation.id;


--
-- Name: audit; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit (
    id integer NOT NULL,
    at timestamp with time zone NOT NULL,
    actor character varying(200) NOT NULL,
    action character varying(100) NOT NULL,
    object text NOT NULL,
    detail text,
    prev_hash character varying(64) NOT NULL,
    row_hash character varying(64) NOT NULL
);


--
-- Name: audit_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.audit_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: audit_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.audit_id_seq OWNED BY public.audit.id;


--
-- Name: batch_run; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.batch_run (
    id integer NOT NULL,
    started_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone,
    state character varying(20) NOT NULL,
    host character varying(200) NOT NULL,
    pid integer NOT NULL,
    inbox text NOT NULL,
    executor character varying(20) NOT NULL,
    workers integer NOT NULL,
    device character varying(20) NOT NULL,
    model character varying(200) NOT NULL,
    files integer NOT NULL,
    done integer NOT NULL,
    quarantined integer NOT NULL,
    audio_s double precision NOT NULL,
    elapsed_s double precision
);


--
-- Name: batch_run_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.batch_run_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: batch_run_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.batch_run_id_seq OWNED BY public.batch_run.id;


--
-- Name: flag; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.flag (
    id integer NOT NULL,
    media_id integer NOT NULL,
    review_item_id integer,
    category character varying(100) NOT NULL,
    family character varying(40) NOT NULL,
    start_s double precision NOT NULL,
    end_s double precision NOT NULL,
    text text NOT NULL,
    context text NOT NULL,
    rubric character varying(200) NOT NULL,
    pattern character varying(200) NOT NULL,
    severity integer NOT NULL,
    speaker character varying(40) NOT NULL
);


--
-- Name: flag_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.flag_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: flag_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.flag_id_seq OWNED BY public.flag.id;


--
-- Name: job; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.job (
    id integer NOT NULL,
    media_id integer NOT NULL,
    stage character varying(20) NOT NULL,
    state character varying(20) NOT NULL,
    attempts integer NOT NULL,
    last_error text,
    run_id integer,
    not_before timestamp with time zone,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    elapsed_s double precision
);


--
-- Name: job_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.job_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: job_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.job_id_seq OWNED BY public.job.id;


--
-- Name: legal_hold; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.legal_hold (
    id integer NOT NULL,
    media_id integer NOT NULL,
    reason text NOT NULL,
    placed_by character varying(200) NOT NULL,
    placed_at timestamp with time zone NOT NULL
);


--
-- Name: legal_hold_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.legal_hold_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: legal_hold_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.legal_hold_id_seq OWNED BY public.legal_hold.id;


--
-- Name: login_attempt; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.login_attempt (
    id integer NOT NULL,
    name character varying(200) NOT NULL,
    client character varying(100) NOT NULL,
    ok boolean NOT NULL,
    at timestamp with time zone NOT NULL
);


--
-- Name: login_attempt_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.login_attempt_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: login_attempt_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.login_attempt_id_seq OWNED BY public.login_attempt.id;


--
-- Name: media; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.media (
    id integer NOT NULL,
    sha256 character varying(64),
    state character varying(20) NOT NULL,
    reason text,
    size_bytes bigint,
    store_path text,
    container character varying(100),
    duration_s double precision,
    has_video boolean,
    width integer,
    height integer,
    audio_tracks integer,
    audio_track integer,
    audio_path text,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: media_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.media_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: media_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.media_id_seq OWNED BY public.media.id;


--
-- Name: media_name; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.media_name (
    id integer NOT NULL,
    media_id integer NOT NULL,
    inbox text NOT NULL,
    name text NOT NULL,
    size_bytes bigint,
    mtime_ns bigint,
    first_seen_at timestamp with time zone NOT NULL
);


--
-- Name: media_name_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.media_name_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: media_name_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.media_name_id_seq OWNED BY public.media_name.id;


--
-- Name: review_item; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.review_item (
    id integer NOT NULL,
    media_id integer NOT NULL,
    start_s double precision NOT NULL,
    end_s double precision NOT NULL,
    priority integer NOT NULL,
    status character varying(20) NOT NULL,
    categories text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    claimed_by integer,
    reviewed_by integer,
    claimed_at timestamp with time zone,
    reviewed_at timestamp with time zone
);


--
-- Name: review_item_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.review_item_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: review_item_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.review_item_id_seq OWNED BY public.review_item.id;


--
-- Name: rubric_feedback; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.rubric_feedback (
    id integer NOT NULL,
    media_id integer NOT NULL,
    flag_id integer,
    kind character varying(20) NOT NULL,
    category character varying(100) NOT NULL,
    start_s double precision NOT NULL,
    end_s double precision NOT NULL,
    text text NOT NULL,
    rubric character varying(200),
    note text,
    reviewer character varying(200) NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: rubric_feedback_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.rubric_feedback_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: rubric_feedback_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.rubric_feedback_id_seq OWNED BY public.rubric_feedback.id;


--
-- Name: segment; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.segment (
    id integer NOT NULL,
    media_id integer NOT NULL,
    idx integer NOT NULL,
    start_s double precision NOT NULL,
    end_s double precision NOT NULL,
    text text NOT NULL,
    words_json text NOT NULL,
    avg_logprob double precision,
    no_speech_prob double precision
);


--
-- Name: segment_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.segment_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: segment_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.segment_id_seq OWNED BY public.segment.id;


--
-- Name: tombstone; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tombstone (
    id integer NOT NULL,
    media_id integer NOT NULL,
    sha256 character varying(64),
    deleted_at timestamp with time zone NOT NULL,
    policy text NOT NULL,
    actor character varying(200) NOT NULL
);


--
-- Name: tombstone_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.tombstone_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: tombstone_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.tombstone_id_seq OWNED BY public.tombstone.id;


--
-- Name: transcript; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.transcript (
    id integer NOT NULL,
    media_id integer NOT NULL,
    model character varying(200) NOT NULL,
    model_sha256 character varying(64),
    language character varying(10),
    settings_json text NOT NULL,
    audio_s double precision NOT NULL,
    elapsed_s double precision NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: transcript_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.transcript_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: transcript_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.transcript_id_seq OWNED BY public.transcript.id;


--
-- Name: user_account; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.user_account (
    id integer NOT NULL,
    name character varying(100) NOT NULL,
    role character varying(20) NOT NULL,
    password_hash text NOT NULL,
    disabled boolean NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL
);


--
-- Name: user_account_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.user_account_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: user_account_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.user_account_id_seq OWNED BY public.user_account.id;


--
-- Name: web_session; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.web_session (
    id character varying(64) NOT NULL,
    user_id integer NOT NULL,
    csrf_token character varying(64) NOT NULL,
    created_at timestamp with time zone NOT NULL,
    last_seen_at timestamp with time zone NOT NULL,
    expires_at timestamp with time zone NOT NULL
);


--
-- Name: annotation id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.annotation ALTER COLUMN id SET DEFAULT nextval('public.annotation_id_seq'::regclass);


--
-- Name: audit id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit ALTER COLUMN id SET DEFAULT nextval('public.audit_id_seq'::regclass);


--
-- Name: batch_run id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.batch_run ALTER COLUMN id SET DEFAULT nextval('public.batch_run_id_seq'::regclass);


--
-- Name: flag id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.flag ALTER COLUMN id SET DEFAULT nextval('public.flag_id_seq'::regclass);


--
-- Name: job id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job ALTER COLUMN id SET DEFAULT nextval('public.job_id_seq'::regclass);


--
-- Name: legal_hold id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.legal_hold ALTER COLUMN id SET DEFAULT nextval('public.legal_hold_id_seq'::regclass);


--
-- Name: login_attempt id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.login_attempt ALTER COLUMN id SET DEFAULT nextval('public.login_attempt_id_seq'::regclass);


--
-- Name: media id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.media ALTER COLUMN id SET DEFAULT nextval('public.media_id_seq'::regclass);


--
-- Name: media_name id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.media_name ALTER COLUMN id SET DEFAULT nextval('public.media_name_id_seq'::regclass);


--
-- Name: review_item id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.review_item ALTER COLUMN id SET DEFAULT nextval('public.review_item_id_seq'::regclass);


--
-- Name: rubric_feedback id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rubric_feedback ALTER COLUMN id SET DEFAULT nextval('public.rubric_feedback_id_seq'::regclass);


--
-- Name: segment id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.segment ALTER COLUMN id SET DEFAULT nextval('public.segment_id_seq'::regclass);


--
-- Name: tombstone id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tombstone ALTER COLUMN id SET DEFAULT nextval('public.tombstone_id_seq'::regclass);


--
-- Name: transcript id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transcript ALTER COLUMN id SET DEFAULT nextval('public.transcript_id_seq'::regclass);


--
-- Name: user_account id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_account ALTER COLUMN id SET DEFAULT nextval('public.user_account_id_seq'::regclass);


--
-- Data for Name: alembic_version; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.alembic_version VALUES ('0004');


--
-- Data for Name: annotation; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: audit; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.audit VALUES (1, '2026-12-06 06:45:04.004099+00', 'cli:root', 'ingest', 'media:1', '/tmp/fixin/02_missing_daughter.mp4 sha256=597845ec5cbc36d93717ad3c38780ecca3da200e20f1607ff987fd7e3e24e8dd', '0000000000000000000000000000000000000000000000000000000000000000', 'c7ddd28bff59233be0a41f1000834d18ea735c4670538a58e409cb21fef8f3d0');
INSERT INTO public.audit VALUES (2, '2026-12-06 06:45:04.136343+00', 'cli:root', 'ingest', 'media:2', '/tmp/fixin/05_street_disturbance.mp4 sha256=61245e02cdd46dbacdaa73a904c2e676ea4f91505b414e1c8e90a2e5b7d825af', 'c7ddd28bff59233be0a41f1000834d18ea735c4670538a58e409cb21fef8f3d0', '650f35e5894c2961066636c331460fcfffa9962ca6a8c0bfe0377eccc1f56f4d');
INSERT INTO public.audit VALUES (3, '2026-12-06 06:45:09.835275+00', 'cli:root', 'user-add', 'user:1', 'tip1 role=tip', '650f35e5894c2961066636c331460fcfffa9962ca6a8c0bfe0377eccc1f56f4d', '8d5febd845d9a0c55ced628c9c874657802ee750e5e39949dff76ddc54481192');


--
-- Data for Name: batch_run; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.batch_run VALUES (1, '2026-12-06 06:45:04.033686+00', '2026-12-06 06:45:07.966894+00', 'finished', 'vm', 4405, '/tmp/fixin', 'local', 2, 'cpu', 'tiny.en', 2, 2, 0, 74.161, 3.9856845269999894);


--
-- Data for Name: flag; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.flag VALUES (1, 2, 1, 'concern.blame', 'concern', 11.6, 13.08, 'brought this on yourself', 'Well, if you didn''t shout at them mainly new alone, you brought this on yourself.', 'trauma_informed@1.1.0', 'brought_it_on', 3, 'unknown');
INSERT INTO public.flag VALUES (2, 2, 1, 'distress', 'disclosure', 13.6, 13.98, 'I''m scared', 'I''m scared to go out.', 'trauma_informed@1.1.0', 'panic_attack', 4, 'unknown');
INSERT INTO public.flag VALUES (3, 2, 1, 'concern.dismiss', 'concern', 24.86, 25.9, 'Calm down', 'Calm down, get back inside.', 'trauma_informed@1.1.0', 'calm_down_start', 3, 'unknown');
INSERT INTO public.flag VALUES (4, 2, 1, 'concern.profanity', 'concern', 29.68, 30.2, 'you''re pathetic', 'Now, honestly, you''re pathetic.', 'trauma_informed@1.1.0', 'stupid', 3, 'unknown');
INSERT INTO public.flag VALUES (5, 1, 2, 'practice.explain', 'practice', 3.7, 4.88, 'I''m here because you', 'I''m here because you rang about your daughter.', 'trauma_informed@1.1.0', 'were_here_because', 2, 'unknown');
INSERT INTO public.flag VALUES (6, 1, 2, 'safeguarding.child', 'disclosure', 9.88, 10.38, 'she''s 15', 'My daughter turned and came down since Tuesday, she''s 15.', 'trauma_informed@1.1.0', 'shes_n', 5, 'unknown');
INSERT INTO public.flag VALUES (7, 1, 2, 'practice.validate', 'practice', 12.66, 13.54, 'I can see how', 'I can see how worried you are when did you last year from there?', 'trauma_informed@1.1.0', 'i_can_see', 2, 'unknown');


--
-- Data for Name: job; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.job VALUES (2, 2, 'extract', 'done', 1, NULL, 1, NULL, '2026-12-06 06:45:04.340895+00', '2026-12-06 06:45:04.869795+00', 0.5289);
INSERT INTO public.job VALUES (1, 1, 'extract', 'done', 1, NULL, 1, NULL, '2026-12-06 06:45:04.266387+00', '2026-12-06 06:45:04.959369+00', 0.692982);
INSERT INTO public.job VALUES (3, 2, 'transcribe', 'done', 1, NULL, 1, NULL, '2026-12-06 06:45:04.936739+00', '2026-12-06 06:45:07.364501+00', 2.427762);
INSERT INTO public.job VALUES (5, 2, 'flag', 'done', 1, NULL, 1, NULL, '2026-12-06 06:45:07.367155+00', '2026-12-06 06:45:07.403188+00', 0.036033);
INSERT INTO public.job VALUES (4, 1, 'transcribe', 'done', 1, NULL, 1, NULL, '2026-12-06 06:45:04.999552+00', '2026-12-06 06:45:07.90124+00', 2.901688);
INSERT INTO public.job VALUES (6, 1, 'flag', 'done', 1, NULL, 1, NULL, '2026-12-06 06:45:07.905422+00', '2026-12-06 06:45:07.951313+00', 0.045891);


--
-- Data for Name: legal_hold; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: login_attempt; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: media; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.media VALUES (2, '61245e02cdd46dbacdaa73a904c2e676ea4f91505b414e1c8e90a2e5b7d825af', 'done', NULL, 542694, 'store/61/24/61245e02cdd46dbacdaa73a904c2e676ea4f91505b414e1c8e90a2e5b7d825af', 'mov,mp4,m4a,3gp,3g2,mj2', 33.627, true, 640, 360, 1, 0, 'derived/61/61245e02cdd46dbacdaa73a904c2e676ea4f91505b414e1c8e90a2e5b7d825af.speech.wav', '2026-12-06 06:45:04.064497+00', '2026-12-06 06:45:07.394171+00');
INSERT INTO public.media VALUES (1, '597845ec5cbc36d93717ad3c38780ecca3da200e20f1607ff987fd7e3e24e8dd', 'done', NULL, 656109, 'store/59/78/597845ec5cbc36d93717ad3c38780ecca3da200e20f1607ff987fd7e3e24e8dd', 'mov,mp4,m4a,3gp,3g2,mj2', 40.534, true, 640, 360, 1, 0, 'derived/59/597845ec5cbc36d93717ad3c38780ecca3da200e20f1607ff987fd7e3e24e8dd.speech.wav', '2026-12-06 06:45:03.988588+00', '2026-12-06 06:45:07.942132+00');


--
-- Data for Name: media_name; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.media_name VALUES (1, 1, '/tmp/fixin', '02_missing_daughter.mp4', 656109, 1796539466517187015, '2026-12-06 06:45:03.988588+00');
INSERT INTO public.media_name VALUES (2, 2, '/tmp/fixin', '05_street_disturbance.mp4', 542694, 1796539466518297342, '2026-12-06 06:45:04.064497+00');


--
-- Data for Name: review_item; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.review_item VALUES (1, 2, 6.6, 33.627, 81, 'new', 'concern.blame,concern.dismiss,concern.profanity,distress', '2026-12-06 06:45:07.394171+00', NULL, NULL, NULL, NULL);
INSERT INTO public.review_item VALUES (2, 1, 0, 18.54, 98, 'new', 'practice.explain,practice.validate,safeguarding.child', '2026-12-06 06:45:07.942132+00', NULL, NULL, NULL, NULL);


--
-- Data for Name: rubric_feedback; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: segment; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.segment VALUES (1, 2, 0, 0, 3.38, 'Right, what''s all this noise about, then?', '[{"start_s": 0.0, "end_s": 1.0, "word": "Right,", "probability": 0.2934}, {"start_s": 1.28, "end_s": 1.64, "word": "what''s", "probability": 0.6349}, {"start_s": 1.64, "end_s": 1.84, "word": "all", "probability": 0.9666}, {"start_s": 1.84, "end_s": 2.04, "word": "this", "probability": 0.9642}, {"start_s": 2.04, "end_s": 2.28, "word": "noise", "probability": 0.9516}, {"start_s": 2.28, "end_s": 2.66, "word": "about,", "probability": 0.7291}, {"start_s": 3.38, "end_s": 3.38, "word": "then?", "probability": 0.5803}]', -0.4684137975847399, 0.6354897618293762);
INSERT INTO public.segment VALUES (2, 2, 1, 4.06, 7.74, 'No, that''s been for instance at my window every night this week.', '[{"start_s": 4.06, "end_s": 4.06, "word": "No,", "probability": 0.2601}, {"start_s": 4.32, "end_s": 4.48, "word": "that''s", "probability": 0.7002}, {"start_s": 4.48, "end_s": 4.9, "word": "been", "probability": 0.3527}, {"start_s": 4.9, "end_s": 5.04, "word": "for", "probability": 0.1611}, {"start_s": 5.04, "end_s": 5.5, "word": "instance", "probability": 0.2258}, {"start_s": 5.5, "end_s": 5.86, "word": "at", "probability": 0.5907}, {"start_s": 5.86, "end_s": 6.04, "word": "my", "probability": 0.895}, {"start_s": 6.04, "end_s": 6.26, "word": "window", "probability": 0.9858}, {"start_s": 6.26, "end_s": 6.64, "word": "every", "probability": 0.861}, {"start_s": 6.64, "end_s": 6.9, "word": "night", "probability": 0.7776}, {"start_s": 6.9, "end_s": 7.16, "word": "this", "probability": 0.9019}, {"start_s": 7.16, "end_s": 7.74, "word": "week.", "probability": 0.9966}]', -0.4684137975847399, 0.6354897618293762);
INSERT INTO public.segment VALUES (3, 2, 2, 8.32, 13.08, 'Well, if you didn''t shout at them mainly new alone, you brought this on yourself.', '[{"start_s": 8.32, "end_s": 8.32, "word": "Well,", "probability": 0.9427}, {"start_s": 8.32, "end_s": 8.58, "word": "if", "probability": 0.9907}, {"start_s": 8.58, "end_s": 8.8, "word": "you", "probability": 0.997}, {"start_s": 8.8, "end_s": 9.2, "word": "didn''t", "probability": 0.9934}, {"start_s": 9.2, "end_s": 9.48, "word": "shout", "probability": 0.9758}, {"start_s": 9.48, "end_s": 9.78, "word": "at", "probability": 0.6736}, {"start_s": 9.78, "end_s": 10.02, "word": "them", "probability": 0.6708}, {"start_s": 10.02, "end_s": 10.34, "word": "mainly", "probability": 0.3886}, {"start_s": 10.34, "end_s": 10.58, "word": "new", "probability": 0.3494}, {"start_s": 10.58, "end_s": 10.9, "word": "alone,", "probability": 0.9696}, {"start_s": 11.32, "end_s": 11.6, "word": "you", "probability": 0.9893}, {"start_s": 11.6, "end_s": 11.82, "word": "brought", "probability": 0.9905}, {"start_s": 11.82, "end_s": 12.06, "word": "this", "probability": 0.9897}, {"start_s": 12.06, "end_s": 12.28, "word": "on", "probability": 0.9934}, {"start_s": 12.28, "end_s": 13.08, "word": "yourself.", "probability": 0.987}]', -0.4684137975847399, 0.6354897618293762);
INSERT INTO public.segment VALUES (4, 2, 3, 13.6, 15, 'I''m scared to go out.', '[{"start_s": 13.6, "end_s": 13.78, "word": "I''m", "probability": 0.7036}, {"start_s": 13.78, "end_s": 13.98, "word": "scared", "probability": 0.8699}, {"start_s": 13.98, "end_s": 14.22, "word": "to", "probability": 0.9953}, {"start_s": 14.22, "end_s": 14.34, "word": "go", "probability": 0.9913}, {"start_s": 14.34, "end_s": 15.0, "word": "out.", "probability": 0.9984}]', -0.4684137975847399, 0.6354897618293762);
INSERT INTO public.segment VALUES (5, 2, 4, 15.14, 17.3, 'Well, not them said, he said, I have the mic on.', '[{"start_s": 15.14, "end_s": 15.16, "word": "Well,", "probability": 0.8183}, {"start_s": 15.32, "end_s": 15.38, "word": "not", "probability": 0.9444}, {"start_s": 15.38, "end_s": 15.66, "word": "them", "probability": 0.2166}, {"start_s": 15.66, "end_s": 15.98, "word": "said,", "probability": 0.7497}, {"start_s": 16.14, "end_s": 16.18, "word": "he", "probability": 0.6324}, {"start_s": 16.18, "end_s": 16.48, "word": "said,", "probability": 0.9114}, {"start_s": 16.52, "end_s": 16.62, "word": "I", "probability": 0.5004}, {"start_s": 16.62, "end_s": 16.74, "word": "have", "probability": 0.3848}, {"start_s": 16.74, "end_s": 16.86, "word": "the", "probability": 0.2961}, {"start_s": 16.86, "end_s": 17.1, "word": "mic", "probability": 0.8613}, {"start_s": 17.1, "end_s": 17.3, "word": "on.", "probability": 0.8282}]', -0.4684137975847399, 0.6354897618293762);
INSERT INTO public.segment VALUES (6, 2, 5, 18.14, 19.84, 'They''re only kids messing about.', '[{"start_s": 18.14, "end_s": 18.4, "word": "They''re", "probability": 0.7391}, {"start_s": 18.4, "end_s": 18.6, "word": "only", "probability": 0.9907}, {"start_s": 18.6, "end_s": 19.0, "word": "kids", "probability": 0.9893}, {"start_s": 19.0, "end_s": 19.32, "word": "messing", "probability": 0.9757}, {"start_s": 19.32, "end_s": 19.84, "word": "about.", "probability": 0.9902}]', -0.4684137975847399, 0.6354897618293762);
INSERT INTO public.segment VALUES (7, 2, 6, 20.18, 22.3, 'We''ve got proper jobs to get to.', '[{"start_s": 20.18, "end_s": 20.44, "word": "We''ve", "probability": 0.8963}, {"start_s": 20.44, "end_s": 20.64, "word": "got", "probability": 0.9987}, {"start_s": 20.64, "end_s": 20.88, "word": "proper", "probability": 0.9972}, {"start_s": 20.88, "end_s": 21.22, "word": "jobs", "probability": 0.9631}, {"start_s": 21.22, "end_s": 21.46, "word": "to", "probability": 0.9978}, {"start_s": 21.46, "end_s": 21.7, "word": "get", "probability": 0.9979}, {"start_s": 21.7, "end_s": 22.3, "word": "to.", "probability": 0.9448}]', -0.4684137975847399, 0.6354897618293762);
INSERT INTO public.segment VALUES (8, 2, 7, 22.76, 24.86, 'You''re not even listening to me.', '[{"start_s": 22.76, "end_s": 22.96, "word": "You''re", "probability": 0.98}, {"start_s": 22.96, "end_s": 23.18, "word": "not", "probability": 0.9981}, {"start_s": 23.18, "end_s": 23.5, "word": "even", "probability": 0.5767}, {"start_s": 23.5, "end_s": 23.8, "word": "listening", "probability": 0.9904}, {"start_s": 23.8, "end_s": 24.18, "word": "to", "probability": 0.9975}, {"start_s": 24.18, "end_s": 24.86, "word": "me.", "probability": 0.9991}]', -0.4684137975847399, 0.6354897618293762);
INSERT INTO public.segment VALUES (9, 2, 8, 24.86, 27.38, 'Calm down, get back inside.', '[{"start_s": 24.86, "end_s": 25.44, "word": "Calm", "probability": 0.4104}, {"start_s": 25.44, "end_s": 25.9, "word": "down,", "probability": 0.9884}, {"start_s": 26.16, "end_s": 26.34, "word": "get", "probability": 0.9695}, {"start_s": 26.34, "end_s": 26.66, "word": "back", "probability": 0.9537}, {"start_s": 26.66, "end_s": 27.38, "word": "inside.", "probability": 0.995}]', -0.4974696125302996, 0.33025649189949036);
INSERT INTO public.segment VALUES (10, 2, 9, 28.1, 30.2, 'Now, honestly, you''re pathetic.', '[{"start_s": 28.1, "end_s": 28.1, "word": "Now,", "probability": 0.843}, {"start_s": 29.12, "end_s": 29.26, "word": "honestly,", "probability": 0.9628}, {"start_s": 29.68, "end_s": 29.88, "word": "you''re", "probability": 0.8108}, {"start_s": 29.88, "end_s": 30.2, "word": "pathetic.", "probability": 0.8856}]', -0.4974696125302996, 0.33025649189949036);
INSERT INTO public.segment VALUES (11, 2, 10, 31, 32.24, 'Stop wasting the least time.', '[{"start_s": 31.0, "end_s": 31.02, "word": "Stop", "probability": 0.975}, {"start_s": 31.02, "end_s": 31.42, "word": "wasting", "probability": 0.9953}, {"start_s": 31.42, "end_s": 31.68, "word": "the", "probability": 0.8593}, {"start_s": 31.68, "end_s": 31.92, "word": "least", "probability": 0.5459}, {"start_s": 31.92, "end_s": 32.24, "word": "time.", "probability": 0.9968}]', -0.4974696125302996, 0.33025649189949036);
INSERT INTO public.segment VALUES (12, 1, 0, 0.16, 6.22, 'Good afternoon, I''m D.C. Sarah Bennett. I''m here because you rang about your daughter.', '[{"start_s": 0.16, "end_s": 1.18, "word": "Good", "probability": 0.2509}, {"start_s": 1.18, "end_s": 1.68, "word": "afternoon,", "probability": 0.9951}, {"start_s": 2.08, "end_s": 2.38, "word": "I''m", "probability": 0.9344}, {"start_s": 2.38, "end_s": 2.5, "word": "D", "probability": 0.2254}, {"start_s": 2.5, "end_s": 2.7, "word": ".C.", "probability": 0.9134}, {"start_s": 2.94, "end_s": 2.94, "word": "Sarah", "probability": 0.4491}, {"start_s": 2.94, "end_s": 3.26, "word": "Bennett.", "probability": 0.8095}, {"start_s": 3.7, "end_s": 4.0, "word": "I''m", "probability": 0.9903}, {"start_s": 4.0, "end_s": 4.24, "word": "here", "probability": 0.8993}, {"start_s": 4.24, "end_s": 4.6, "word": "because", "probability": 0.947}, {"start_s": 4.6, "end_s": 4.88, "word": "you", "probability": 0.989}, {"start_s": 4.88, "end_s": 5.0, "word": "rang", "probability": 0.6818}, {"start_s": 5.0, "end_s": 5.36, "word": "about", "probability": 0.9918}, {"start_s": 5.36, "end_s": 5.68, "word": "your", "probability": 0.9921}, {"start_s": 5.68, "end_s": 6.22, "word": "daughter.", "probability": 0.997}]', -0.4019299566068433, 0.4246180057525635);
INSERT INTO public.segment VALUES (13, 1, 1, 6.54, 11.94, 'My daughter turned and came down since Tuesday, she''s 15. She''s never done this.', '[{"start_s": 6.54, "end_s": 6.54, "word": "My", "probability": 0.0803}, {"start_s": 6.54, "end_s": 6.92, "word": "daughter", "probability": 0.966}, {"start_s": 6.92, "end_s": 7.24, "word": "turned", "probability": 0.1007}, {"start_s": 7.24, "end_s": 7.38, "word": "and", "probability": 0.1404}, {"start_s": 7.38, "end_s": 7.7, "word": "came", "probability": 0.5273}, {"start_s": 7.7, "end_s": 8.18, "word": "down", "probability": 0.6051}, {"start_s": 8.18, "end_s": 8.6, "word": "since", "probability": 0.8129}, {"start_s": 8.6, "end_s": 9.12, "word": "Tuesday,", "probability": 0.6548}, {"start_s": 9.88, "end_s": 10.16, "word": "she''s", "probability": 0.6764}, {"start_s": 10.16, "end_s": 10.38, "word": "15.", "probability": 0.5807}, {"start_s": 10.88, "end_s": 11.12, "word": "She''s", "probability": 0.9654}, {"start_s": 11.12, "end_s": 11.22, "word": "never", "probability": 0.902}, {"start_s": 11.22, "end_s": 11.56, "word": "done", "probability": 0.8078}, {"start_s": 11.56, "end_s": 11.94, "word": "this.", "probability": 0.9892}]', -0.4019299566068433, 0.4246180057525635);
INSERT INTO public.segment VALUES (14, 1, 2, 12.66, 16.48, 'I can see how worried you are when did you last year from there?', '[{"start_s": 12.66, "end_s": 12.86, "word": "I", "probability": 0.9772}, {"start_s": 12.86, "end_s": 13.1, "word": "can", "probability": 0.9964}, {"start_s": 13.1, "end_s": 13.3, "word": "see", "probability": 0.8968}, {"start_s": 13.3, "end_s": 13.54, "word": "how", "probability": 0.9885}, {"start_s": 13.54, "end_s": 13.82, "word": "worried", "probability": 0.9852}, {"start_s": 13.82, "end_s": 14.02, "word": "you", "probability": 0.9956}, {"start_s": 14.02, "end_s": 14.44, "word": "are", "probability": 0.9873}, {"start_s": 14.44, "end_s": 14.76, "word": "when", "probability": 0.7878}, {"start_s": 14.76, "end_s": 14.92, "word": "did", "probability": 0.9398}, {"start_s": 14.92, "end_s": 15.1, "word": "you", "probability": 0.9984}, {"start_s": 15.1, "end_s": 15.38, "word": "last", "probability": 0.9843}, {"start_s": 15.38, "end_s": 15.68, "word": "year", "probability": 0.2831}, {"start_s": 15.68, "end_s": 15.96, "word": "from", "probability": 0.9656}, {"start_s": 15.96, "end_s": 16.48, "word": "there?", "probability": 0.253}]', -0.4019299566068433, 0.4246180057525635);
INSERT INTO public.segment VALUES (15, 1, 3, 16.98, 22.3, 'She turned 16 on Tuesday night, saying she wanted a friend, but for the friend, she never came.', '[{"start_s": 16.98, "end_s": 16.98, "word": "She", "probability": 0.9586}, {"start_s": 16.98, "end_s": 17.3, "word": "turned", "probability": 0.0771}, {"start_s": 17.3, "end_s": 17.46, "word": "16", "probability": 0.1058}, {"start_s": 17.46, "end_s": 17.7, "word": "on", "probability": 0.5908}, {"start_s": 17.7, "end_s": 18.06, "word": "Tuesday", "probability": 0.9614}, {"start_s": 18.06, "end_s": 18.54, "word": "night,", "probability": 0.4815}, {"start_s": 18.62, "end_s": 18.82, "word": "saying", "probability": 0.9432}, {"start_s": 18.82, "end_s": 19.08, "word": "she", "probability": 0.9632}, {"start_s": 19.08, "end_s": 19.32, "word": "wanted", "probability": 0.8067}, {"start_s": 19.32, "end_s": 19.56, "word": "a", "probability": 0.627}, {"start_s": 19.56, "end_s": 19.94, "word": "friend,", "probability": 0.9963}, {"start_s": 20.28, "end_s": 20.46, "word": "but", "probability": 0.9927}, {"start_s": 20.46, "end_s": 20.68, "word": "for", "probability": 0.311}, {"start_s": 20.68, "end_s": 20.68, "word": "the", "probability": 0.9016}, {"start_s": 20.68, "end_s": 21.0, "word": "friend,", "probability": 0.8638}, {"start_s": 21.2, "end_s": 21.38, "word": "she", "probability": 0.8293}, {"start_s": 21.38, "end_s": 21.76, "word": "never", "probability": 0.7454}, {"start_s": 21.76, "end_s": 22.3, "word": "came.", "probability": 0.9977}]', -0.4019299566068433, 0.4246180057525635);
INSERT INTO public.segment VALUES (16, 1, 4, 23.28, 26.24, 'And then one new come into her life recently.', '[{"start_s": 23.28, "end_s": 23.76, "word": "And", "probability": 0.1735}, {"start_s": 23.76, "end_s": 23.88, "word": "then", "probability": 0.7284}, {"start_s": 23.88, "end_s": 24.14, "word": "one", "probability": 0.3428}, {"start_s": 24.14, "end_s": 24.44, "word": "new", "probability": 0.9059}, {"start_s": 24.44, "end_s": 24.62, "word": "come", "probability": 0.4884}, {"start_s": 24.62, "end_s": 24.86, "word": "into", "probability": 0.6232}, {"start_s": 24.86, "end_s": 25.08, "word": "her", "probability": 0.2176}, {"start_s": 25.08, "end_s": 25.3, "word": "life", "probability": 0.8364}, {"start_s": 25.3, "end_s": 26.24, "word": "recently.", "probability": 0.987}]', -0.431961510181427, 0.3196769058704376);
INSERT INTO public.segment VALUES (17, 1, 5, 27.2, 29.46, 'No, no, no, we don''t like car pooping.', '[{"start_s": 27.2, "end_s": 27.2, "word": "No,", "probability": 0.028}, {"start_s": 27.48, "end_s": 27.5, "word": "no,", "probability": 0.9455}, {"start_s": 27.7, "end_s": 27.7, "word": "no,", "probability": 0.631}, {"start_s": 27.9, "end_s": 27.98, "word": "we", "probability": 0.2331}, {"start_s": 27.98, "end_s": 28.2, "word": "don''t", "probability": 0.6634}, {"start_s": 28.2, "end_s": 28.48, "word": "like", "probability": 0.4119}, {"start_s": 28.48, "end_s": 29.02, "word": "car", "probability": 0.0933}, {"start_s": 29.02, "end_s": 29.46, "word": "pooping.", "probability": 0.5334}]', -0.431961510181427, 0.3196769058704376);
INSERT INTO public.segment VALUES (18, 1, 6, 29.64, 33.1, 'They''re up from school. She''s got a new phone high name and word.', '[{"start_s": 29.64, "end_s": 29.72, "word": "They''re", "probability": 0.3315}, {"start_s": 29.72, "end_s": 29.96, "word": "up", "probability": 0.8688}, {"start_s": 29.96, "end_s": 30.24, "word": "from", "probability": 0.9274}, {"start_s": 30.24, "end_s": 30.82, "word": "school.", "probability": 0.9811}, {"start_s": 31.3, "end_s": 31.38, "word": "She''s", "probability": 0.9651}, {"start_s": 31.38, "end_s": 31.56, "word": "got", "probability": 0.9406}, {"start_s": 31.56, "end_s": 31.7, "word": "a", "probability": 0.9783}, {"start_s": 31.7, "end_s": 31.86, "word": "new", "probability": 0.9969}, {"start_s": 31.86, "end_s": 32.12, "word": "phone", "probability": 0.4162}, {"start_s": 32.12, "end_s": 32.28, "word": "high", "probability": 0.1031}, {"start_s": 32.28, "end_s": 32.46, "word": "name", "probability": 0.5682}, {"start_s": 32.46, "end_s": 32.7, "word": "and", "probability": 0.8346}, {"start_s": 32.7, "end_s": 33.1, "word": "word.", "probability": 0.5979}]', -0.431961510181427, 0.3196769058704376);
INSERT INTO public.segment VALUES (19, 1, 7, 33.62, 36.78, 'That''s really helpful. We are treating this as high risk.', '[{"start_s": 33.62, "end_s": 33.98, "word": "That''s", "probability": 0.8558}, {"start_s": 33.98, "end_s": 34.08, "word": "really", "probability": 0.9547}, {"start_s": 34.08, "end_s": 34.54, "word": "helpful.", "probability": 0.9971}, {"start_s": 35.08, "end_s": 35.14, "word": "We", "probability": 0.9873}, {"start_s": 35.14, "end_s": 35.32, "word": "are", "probability": 0.8975}, {"start_s": 35.32, "end_s": 35.7, "word": "treating", "probability": 0.9967}, {"start_s": 35.7, "end_s": 35.96, "word": "this", "probability": 0.96}, {"start_s": 35.96, "end_s": 36.2, "word": "as", "probability": 0.8581}, {"start_s": 36.2, "end_s": 36.38, "word": "high", "probability": 0.8503}, {"start_s": 36.38, "end_s": 36.78, "word": "risk.", "probability": 0.8648}]', -0.431961510181427, 0.3196769058704376);
INSERT INTO public.segment VALUES (20, 1, 8, 36.94, 38.78, 'And obviously, I''m not out looking now.', '[{"start_s": 36.94, "end_s": 37.04, "word": "And", "probability": 0.9547}, {"start_s": 37.04, "end_s": 37.34, "word": "obviously,", "probability": 0.2535}, {"start_s": 37.44, "end_s": 37.54, "word": "I''m", "probability": 0.7351}, {"start_s": 37.54, "end_s": 37.6, "word": "not", "probability": 0.6238}, {"start_s": 37.6, "end_s": 37.8, "word": "out", "probability": 0.871}, {"start_s": 37.8, "end_s": 38.18, "word": "looking", "probability": 0.8679}, {"start_s": 38.18, "end_s": 38.78, "word": "now.", "probability": 0.9266}]', -0.431961510181427, 0.3196769058704376);


--
-- Data for Name: tombstone; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Data for Name: transcript; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.transcript VALUES (1, 2, 'tiny.en', '1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a', 'en', '{"beam_size": 3, "condition_on_previous_text": true, "extra": {}, "max_new_tokens": 220, "no_speech_threshold": 0.6, "temperature": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0], "vad_filter": true, "vad_min_silence_ms": 1000, "vad_speech_pad_ms": 800, "word_timestamps": true}', 33.64575, 2.402034635000007, '2026-12-06 06:45:07.355303+00');
INSERT INTO public.transcript VALUES (2, 1, 'tiny.en', '1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a', 'en', '{"beam_size": 3, "condition_on_previous_text": true, "extra": {}, "max_new_tokens": 220, "no_speech_threshold": 0.6, "temperature": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0], "vad_filter": true, "vad_min_silence_ms": 1000, "vad_speech_pad_ms": 800, "word_timestamps": true}', 40.5188125, 2.8885257809999985, '2026-12-06 06:45:07.893175+00');


--
-- Data for Name: user_account; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.user_account VALUES (1, 'tip1', 'tip', '$argon2id$v=19$m=65536,t=3,p=4$yQ+wpkzp+cvtuRU94pa6WA$hGdQTIfr+YXSBMtPiSa8RYN5vX9xegm602kUm5+qU0A', false, '2026-12-06 06:45:09.812889+00', '2026-12-06 06:45:09.812889+00');


--
-- Data for Name: web_session; Type: TABLE DATA; Schema: public; Owner: -
--



--
-- Name: annotation_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.annotation_id_seq', 1, false);


--
-- Name: audit_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.audit_id_seq', 3, true);


--
-- Name: batch_run_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.batch_run_id_seq', 1, true);


--
-- Name: flag_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.flag_id_seq', 7, true);


--
-- Name: job_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.job_id_seq', 6, true);


--
-- Name: legal_hold_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.legal_hold_id_seq', 1, false);


--
-- Name: login_attempt_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.login_attempt_id_seq', 1, false);


--
-- Name: media_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.media_id_seq', 2, true);


--
-- Name: media_name_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.media_name_id_seq', 2, true);


--
-- Name: review_item_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.review_item_id_seq', 2, true);


--
-- Name: rubric_feedback_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.rubric_feedback_id_seq', 1, false);


--
-- Name: segment_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.segment_id_seq', 20, true);


--
-- Name: tombstone_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.tombstone_id_seq', 1, false);


--
-- Name: transcript_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.transcript_id_seq', 2, true);


--
-- Name: user_account_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.user_account_id_seq', 1, true);


--
-- Name: alembic_version alembic_version_pkc; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.alembic_version
    ADD CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num);


--
-- Name: annotation annotation_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.annotation
    ADD CONSTRAINT annotation_pkey PRIMARY KEY (id);


--
-- Name: audit audit_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit
    ADD CONSTRAINT audit_pkey PRIMARY KEY (id);


--
-- Name: audit audit_prev_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit
    ADD CONSTRAINT audit_prev_hash_key UNIQUE (prev_hash);


--
-- Name: audit audit_row_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit
    ADD CONSTRAINT audit_row_hash_key UNIQUE (row_hash);


--
-- Name: batch_run batch_run_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.batch_run
    ADD CONSTRAINT batch_run_pkey PRIMARY KEY (id);


--
-- Name: flag flag_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.flag
    ADD CONSTRAINT flag_pkey PRIMARY KEY (id);


--
-- Name: job job_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job
    ADD CONSTRAINT job_pkey PRIMARY KEY (id);


--
-- Name: legal_hold legal_hold_media_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.legal_hold
    ADD CONSTRAINT legal_hold_media_id_key UNIQUE (media_id);


--
-- Name: legal_hold legal_hold_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.legal_hold
    ADD CONSTRAINT legal_hold_pkey PRIMARY KEY (id);


--
-- Name: login_attempt login_attempt_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.login_attempt
    ADD CONSTRAINT login_attempt_pkey PRIMARY KEY (id);


--
-- Name: media_name media_name_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.media_name
    ADD CONSTRAINT media_name_pkey PRIMARY KEY (id);


--
-- Name: media media_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.media
    ADD CONSTRAINT media_pkey PRIMARY KEY (id);


--
-- Name: media media_sha256_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.media
    ADD CONSTRAINT media_sha256_key UNIQUE (sha256);


--
-- Name: review_item review_item_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.review_item
    ADD CONSTRAINT review_item_pkey PRIMARY KEY (id);


--
-- Name: rubric_feedback rubric_feedback_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rubric_feedback
    ADD CONSTRAINT rubric_feedback_pkey PRIMARY KEY (id);


--
-- Name: segment segment_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.segment
    ADD CONSTRAINT segment_pkey PRIMARY KEY (id);


--
-- Name: tombstone tombstone_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tombstone
    ADD CONSTRAINT tombstone_pkey PRIMARY KEY (id);


--
-- Name: transcript transcript_media_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transcript
    ADD CONSTRAINT transcript_media_id_key UNIQUE (media_id);


--
-- Name: transcript transcript_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transcript
    ADD CONSTRAINT transcript_pkey PRIMARY KEY (id);


--
-- Name: job uq_job_stage; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job
    ADD CONSTRAINT uq_job_stage UNIQUE (media_id, stage);


--
-- Name: media_name uq_media_name; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.media_name
    ADD CONSTRAINT uq_media_name UNIQUE (media_id, inbox, name);


--
-- Name: segment uq_segment_idx; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.segment
    ADD CONSTRAINT uq_segment_idx UNIQUE (media_id, idx);


--
-- Name: user_account user_account_name_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_account
    ADD CONSTRAINT user_account_name_key UNIQUE (name);


--
-- Name: user_account user_account_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.user_account
    ADD CONSTRAINT user_account_pkey PRIMARY KEY (id);


--
-- Name: web_session web_session_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.web_session
    ADD CONSTRAINT web_session_pkey PRIMARY KEY (id);


--
-- Name: ix_annotation_author_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_annotation_author_id ON public.annotation USING btree (author_id);


--
-- Name: ix_annotation_media_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_annotation_media_id ON public.annotation USING btree (media_id);


--
-- Name: ix_annotation_review_item_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_annotation_review_item_id ON public.annotation USING btree (review_item_id);


--
-- Name: ix_batch_run_started_at; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_batch_run_started_at ON public.batch_run USING btree (started_at);


--
-- Name: ix_flag_category; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_flag_category ON public.flag USING btree (category);


--
-- Name: ix_flag_media_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_flag_media_id ON public.flag USING btree (media_id);


--
-- Name: ix_flag_review_item_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_flag_review_item_id ON public.flag USING btree (review_item_id);


--
-- Name: ix_job_media_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_job_media_id ON public.job USING btree (media_id);


--
-- Name: ix_job_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_job_state ON public.job USING btree (state);


--
-- Name: ix_login_attempt_client; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_login_attempt_client ON public.login_attempt USING btree (client, at);


--
-- Name: ix_login_attempt_name; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_login_attempt_name ON public.login_attempt USING btree (name, at);


--
-- Name: ix_media_name_media_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_media_name_media_id ON public.media_name USING btree (media_id);


--
-- Name: ix_media_state; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_media_state ON public.media USING btree (state);


--
-- Name: ix_review_item_claimed_by; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_review_item_claimed_by ON public.review_item USING btree (claimed_by);


--
-- Name: ix_review_item_media_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_review_item_media_id ON public.review_item USING btree (media_id);


--
-- Name: ix_review_item_queue; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_review_item_queue ON public.review_item USING btree (status, priority);


--
-- Name: ix_review_item_reviewed_by; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_review_item_reviewed_by ON public.review_item USING btree (reviewed_by);


--
-- Name: ix_rubric_feedback_flag_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_rubric_feedback_flag_id ON public.rubric_feedback USING btree (flag_id);


--
-- Name: ix_rubric_feedback_media_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_rubric_feedback_media_id ON public.rubric_feedback USING btree (media_id);


--
-- Name: ix_segment_media_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_segment_media_id ON public.segment USING btree (media_id);


--
-- Name: ix_tombstone_media_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_tombstone_media_id ON public.tombstone USING btree (media_id);


--
-- Name: ix_web_session_user_id; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_web_session_user_id ON public.web_session USING btree (user_id);


--
-- Name: annotation annotation_author_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.annotation
    ADD CONSTRAINT annotation_author_id_fkey FOREIGN KEY (author_id) REFERENCES public.user_account(id);


--
-- Name: annotation annotation_media_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.annotation
    ADD CONSTRAINT annotation_media_id_fkey FOREIGN KEY (media_id) REFERENCES public.media(id) ON DELETE CASCADE;


--
-- Name: annotation annotation_review_item_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.annotation
    ADD CONSTRAINT annotation_review_item_id_fkey FOREIGN KEY (review_item_id) REFERENCES public.review_item(id) ON DELETE SET NULL;


--
-- Name: flag flag_media_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.flag
    ADD CONSTRAINT flag_media_id_fkey FOREIGN KEY (media_id) REFERENCES public.media(id) ON DELETE CASCADE;


--
-- Name: flag flag_review_item_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.flag
    ADD CONSTRAINT flag_review_item_id_fkey FOREIGN KEY (review_item_id) REFERENCES public.review_item(id) ON DELETE SET NULL;


--
-- Name: job job_media_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job
    ADD CONSTRAINT job_media_id_fkey FOREIGN KEY (media_id) REFERENCES public.media(id) ON DELETE CASCADE;


--
-- Name: legal_hold legal_hold_media_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.legal_hold
    ADD CONSTRAINT legal_hold_media_id_fkey FOREIGN KEY (media_id) REFERENCES public.media(id) ON DELETE CASCADE;


--
-- Name: media_name media_name_media_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.media_name
    ADD CONSTRAINT media_name_media_id_fkey FOREIGN KEY (media_id) REFERENCES public.media(id) ON DELETE CASCADE;


--
-- Name: review_item review_item_media_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.review_item
    ADD CONSTRAINT review_item_media_id_fkey FOREIGN KEY (media_id) REFERENCES public.media(id) ON DELETE CASCADE;


--
-- Name: rubric_feedback rubric_feedback_flag_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rubric_feedback
    ADD CONSTRAINT rubric_feedback_flag_id_fkey FOREIGN KEY (flag_id) REFERENCES public.flag(id) ON DELETE SET NULL;


--
-- Name: rubric_feedback rubric_feedback_media_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rubric_feedback
    ADD CONSTRAINT rubric_feedback_media_id_fkey FOREIGN KEY (media_id) REFERENCES public.media(id) ON DELETE CASCADE;


--
-- Name: segment segment_media_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.segment
    ADD CONSTRAINT segment_media_id_fkey FOREIGN KEY (media_id) REFERENCES public.media(id) ON DELETE CASCADE;


--
-- Name: transcript transcript_media_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.transcript
    ADD CONSTRAINT transcript_media_id_fkey FOREIGN KEY (media_id) REFERENCES public.media(id) ON DELETE CASCADE;


--
-- Name: web_session web_session_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.web_session
    ADD CONSTRAINT web_session_user_id_fkey FOREIGN KEY (user_id) REFERENCES public.user_account(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


