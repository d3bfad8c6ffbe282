# Herald receiver, both schemes, Ruby standard library only (socket, openssl, json).
# Run: PORT=3000 SECRET=whsec_... RESULTS_FILE=results.log ruby receiver.rb
#  or: PORT=3000 SECRET=... SCHEME=hmac-sha256 HEADER=X-AdFlow-Signature ENCODING=hex RESULTS_FILE=results.log ruby receiver.rb
require "json"
require "openssl"
require "set"
require "socket"

PORT = Integer(ENV.fetch("PORT", "3000"))
SECRET = ENV.fetch("SECRET", "")
SCHEME = ENV.fetch("SCHEME", "standard")
HEADER = ENV.fetch("HEADER", "X-AdFlow-Signature").downcase
ENCODING = ENV.fetch("ENCODING", "hex")
RESULTS_FILE = ENV.fetch("RESULTS_FILE", "results.log")
TOLERANCE_SECONDS = 5 * 60

# Constant-time comparison: looks at every byte whatever the first difference.
def secure_compare(a, b)
  return false unless a.bytesize == b.bytesize
  diff = 0
  a.bytes.zip(b.bytes) { |x, y| diff |= x ^ y }
  diff.zero?
end

# headers: a Hash with lower-cased names. Returns nil when authentic, else why not.
def verify_standard(headers, raw_body)
  id, timestamp, signatures = headers.values_at("webhook-id", "webhook-timestamp", "webhook-signature")
  return "missing_header" if [id, timestamp, signatures].any? { |v| v.nil? || v.empty? }
  return "invalid_timestamp" unless timestamp.match?(/\A[0-9]+\z/)
  age = Time.now.to_i - timestamp.to_i
  return "timestamp_too_old" if age > TOLERANCE_SECONDS
  return "timestamp_too_new" if age < -TOLERANCE_SECONDS
  key = SECRET.delete_prefix("whsec_").unpack1("m") # the base64 after `whsec_`, decoded to bytes
  signed = "#{id}.#{timestamp}.".b + raw_body # the body bytes exactly as received
  expected = [OpenSSL::HMAC.digest("SHA256", key, signed)].pack("m0") # base64
  # "v1,<sig> v1,<sig>": one signature per live secret while Herald rotates it.
  signatures.split(" ").each do |candidate|
    version, signature = candidate.split(",", 2)
    return nil if version == "v1" && signature && secure_compare(signature, expected)
  end
  "no_matching_signature"
end

def verify_hmac(headers, raw_body)
  current = headers[HEADER]
  return "missing_header" if current.nil? || current.empty? || headers["webhook-id"].nil?
  # The key is the secret string's UTF-8 bytes; the HMAC covers the raw body only.
  digest = OpenSSL::HMAC.digest("SHA256", SECRET, raw_body)
  expected = ENCODING == "hex" ? digest.unpack1("H*") : [digest].pack("m0")
  # While Herald rotates the secret, the old secret's signature is in `<header>-previous`.
  candidates = [current, *headers.fetch("#{HEADER}-previous", "").split(" ")]
  return nil if candidates.any? { |signature| secure_compare(signature, expected) }
  "no_matching_signature"
end

LOCK = Mutex.new
SEEN = Set.new # Herald delivers at least once: remember processed ids (use your database in production).

def record(line)
  LOCK.synchronize { File.open(RESULTS_FILE, "a") { |f| f.puts(line) } }
end

# Returns the HTTP status to answer.
def handle(headers, raw_body)
  problem = SCHEME == "hmac-sha256" ? verify_hmac(headers, raw_body) : verify_standard(headers, raw_body)
  unless problem
    begin
      event = JSON.parse(raw_body) # parse only after verifying
    rescue JSON::ParserError
      problem = "invalid_body"
    end
  end
  if problem
    record("bad #{problem}")
    return 400
  end
  id = headers["webhook-id"]
  if LOCK.synchronize { SEEN.add?(id).nil? }
    record("dup #{id}")
  else
    record("ok #{id}") # ...handle `event` here...
  end
  204
end

# A minimal HTTP/1.1 server; in Rails use `request.raw_post`, in Sinatra/Rack `request.body.read`.
server = TCPServer.new("127.0.0.1", PORT)
loop do
  Thread.new(server.accept) do |client|
    request_line = client.gets("\r\n")
    next unless request_line
    headers = {}
    while (line = client.gets("\r\n")) && line != "\r\n"
      name, value = line.split(":", 2)
      headers[name.strip.downcase] = value.to_s.strip
    end
    raw_body = client.read(headers.fetch("content-length", "0").to_i) || "" # binary, as received
    status = handle(headers, raw_body)
    client.write(status == 204 ? "HTTP/1.1 204 No Content\r\n" : "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n")
    client.write("Connection: close\r\n\r\n")
  ensure
    client.close
  end
end
