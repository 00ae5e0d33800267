//! Broken datagrams for the media port: deterministic, so every run sends the same.

/// A small deterministic generator: the same garbage on every run.
pub struct Noise(pub u64);

impl Noise {
    pub fn next_u64(&mut self) -> u64 {
        // xorshift64
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// Datagrams that look like the protocols on the port but are broken.
pub fn crafted(noise: &mut Noise) -> Vec<Vec<u8>> {
    let mut datagrams = vec![
        Vec::new(),
        vec![0x00],
        // STUN binding request header, cut short; and one claiming more length than it has.
        vec![0x00, 0x01, 0x00],
        [
            vec![0x00, 0x01, 0x01, 0x00, 0x21, 0x12, 0xa4, 0x42],
            noise.bytes(12),
        ]
        .concat(),
        // DTLS handshake record, version 1.2, length far beyond the datagram.
        [
            vec![0x16, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff],
            noise.bytes(20),
        ]
        .concat(),
        // DTLS application data with a nonsense epoch.
        [vec![0x17, 0xfe, 0xfd, 0xff, 0xff], noise.bytes(60)].concat(),
        // RTP, padding bit set, last byte says 255 bytes of padding in a 20-byte packet.
        [
            vec![0xa0, 0x60, 0x00, 0x01, 0, 0, 0, 1, 0, 0, 0, 7],
            noise.bytes(7),
            vec![0xff],
        ]
        .concat(),
        // RTCP sender report whose length field is wrong.
        vec![0x80, 0xc8, 0xff, 0xff, 0, 0, 0, 1, 0, 0],
        // RTCP with a length of 0 but a long body.
        [vec![0x81, 0xc9, 0x00, 0x00], noise.bytes(100)].concat(),
        noise.bytes(1500),
    ];
    for _ in 0..300 {
        let len = (noise.next_u64() % 1200) as usize;
        datagrams.push(noise.bytes(len));
    }
    datagrams
}
