<?php
// Herald receiver, both schemes, PHP standard library only.
// Run: SECRET=whsec_... RESULTS_FILE=results.log php -S 127.0.0.1:3000 receiver.php
//  or: SECRET=... SCHEME=hmac-sha256 HEADER=X-AdFlow-Signature ENCODING=hex RESULTS_FILE=results.log php -S 127.0.0.1:3000 receiver.php

const TOLERANCE_SECONDS = 5 * 60;
$secret = getenv('SECRET') ?: '';
$scheme = getenv('SCHEME') ?: 'standard';
$header = getenv('HEADER') ?: 'X-AdFlow-Signature';
$encoding = getenv('ENCODING') ?: 'hex';
$resultsFile = getenv('RESULTS_FILE') ?: 'results.log';
$seenDir = getenv('SEEN_DIR') ?: sys_get_temp_dir() . '/herald-seen';

/** A request header; PHP exposes `Webhook-Id` as $_SERVER['HTTP_WEBHOOK_ID']. */
function header_value(string $name): string
{
    return $_SERVER['HTTP_' . strtoupper(str_replace('-', '_', $name))] ?? '';
}

/** Returns null when the request is authentic, else why it is not. */
function verify_standard(string $secret, string $rawBody): ?string
{
    $id = header_value('webhook-id');
    $timestamp = header_value('webhook-timestamp');
    $signatures = header_value('webhook-signature');
    if ($id === '' || $timestamp === '' || $signatures === '') return 'missing_header';
    if (!ctype_digit($timestamp)) return 'invalid_timestamp';
    $age = time() - (int) $timestamp;
    if ($age > TOLERANCE_SECONDS) return 'timestamp_too_old';
    if ($age < -TOLERANCE_SECONDS) return 'timestamp_too_new';
    // The key is the base64 after the `whsec_` prefix, decoded to bytes.
    $key = base64_decode(preg_replace('/^whsec_/', '', $secret));
    $signed = $id . '.' . $timestamp . '.' . $rawBody; // the body bytes exactly as received
    $expected = base64_encode(hash_hmac('sha256', $signed, $key, true));
    // "v1,<sig> v1,<sig>": one signature per live secret while Herald rotates it.
    foreach (explode(' ', $signatures) as $candidate) {
        [$version, $signature] = array_pad(explode(',', $candidate, 2), 2, '');
        if ($version === 'v1' && hash_equals($expected, $signature)) return null;
    }
    return 'no_matching_signature';
}

/** Returns null when the request is authentic, else why it is not. */
function verify_hmac(string $secret, string $header, string $encoding, string $rawBody): ?string
{
    $current = header_value($header);
    if ($current === '' || header_value('webhook-id') === '') return 'missing_header';
    // The key is the secret string's UTF-8 bytes; the HMAC covers the raw body only.
    $digest = hash_hmac('sha256', $rawBody, $secret, true);
    $expected = $encoding === 'hex' ? bin2hex($digest) : base64_encode($digest);
    // While Herald rotates the secret, the old secret's signature is in `<header>-previous`.
    $candidates = array_merge([$current], explode(' ', header_value($header . '-previous')));
    foreach ($candidates as $signature) {
        if ($signature !== '' && hash_equals($expected, $signature)) return null;
    }
    return 'no_matching_signature';
}

function record(string $file, string $line): void
{
    file_put_contents($file, $line . "\n", FILE_APPEND | LOCK_EX);
}

$rawBody = file_get_contents('php://input'); // the raw bytes; never rebuild them from $_POST or json_decode
$problem = $scheme === 'hmac-sha256'
    ? verify_hmac($secret, $header, $encoding, $rawBody)
    : verify_standard($secret, $rawBody);
if ($problem === null) {
    $event = json_decode($rawBody, true); // parse only after verifying
    if (!is_array($event)) $problem = 'invalid_body';
}
if ($problem !== null) {
    record($resultsFile, "bad $problem");
    http_response_code(400);
    exit;
}

// Herald delivers at least once. PHP keeps nothing between requests, so claim the id
// atomically in shared storage: here a file that fopen(..., 'x') refuses to create twice;
// in production, an INSERT into a table with a unique key on the id.
$id = header_value('webhook-id');
if (!is_dir($seenDir)) @mkdir($seenDir, 0700, true);
$claim = @fopen($seenDir . '/' . hash('sha256', $id), 'x');
if ($claim === false) {
    record($resultsFile, "dup $id");
} else {
    fclose($claim);
    record($resultsFile, "ok $id"); // ...handle $event here...
}
http_response_code(204);
